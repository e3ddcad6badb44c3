package sdrs

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestSanitize(t *testing.T) {
	const (
		ak  = "HPUAQWERTYUIOPASDFGH"                     // 20 upper-case letters and digits
		sk  = "Zq3xVb7NmK2pLw9RtY4uHs8JdF6gC1aE5oI0iUyT" // 40 letters and digits
		job = "0000000062db92d70162db9d200f000a"
		pg  = "decf224d-87fe-403a-8721-037a1a45c287"
	)
	cases := map[string]struct {
		reason string
		in     string
		want   string
	}{
		"Empty": {
			reason: "Nothing in, nothing out.",
			in:     "", want: "",
		},
		"KeepsIDsAndCodes": {
			reason: "Job IDs, UUIDs and codes are what a person needs; they stay.",
			in:     "job " + job + " of group " + pg + " failed with SDRS.1030",
			want:   "job " + job + " of group " + pg + " failed with SDRS.1030",
		},
		"RequestIDJSON": {
			reason: "A request ID changes on every call; leaving it would rewrite status on every poll.",
			in:     `{"error_code":"APIGW.0308","error_msg":"throttled","request_id":"3c2f5b1e9d8a7f6e"}`,
			want:   `{"error_code":"APIGW.0308","error_msg":"throttled"}`,
		},
		"RequestIDText": {
			reason: "Prose forms of request IDs go too.",
			in:     "operation failed (request id: 5f1d-22ab) try again",
			want:   "operation failed try again",
		},
		"XRequestIDHeader": {
			reason: "Echoed headers are removed.",
			in:     "internal error; X-Request-Id: abc123def",
			want:   "internal error",
		},
		"IAMTraceID": {
			reason: "The SDK's IAM messages carry X-IAM-Trace-Id.",
			in:     "failed to get project id, X-IAM-Trace-Id=9f8e7d6c, confirm the project exists",
			want:   "failed to get project id, confirm the project exists",
		},
		"AuthorizationHeader": {
			reason: "An echoed Authorization header keeps neither AK nor signature.",
			in:     "Authorization: SDK-HMAC-SHA256 Access=" + ak + ", SignedHeaders=content-type;host;x-sdk-date, Signature=9a8b7c6d5e4f",
			want:   "Authorization: SDK-HMAC-SHA256 Access=***, SignedHeaders=content-type;host;x-sdk-date, Signature=***",
		},
		"CredentialFragment": {
			reason: "AWS-style Credential= fragments are masked.",
			in:     "bad Credential=AKIDEXAMPLE/20260101/region/sdrs/request",
			want:   "bad Credential=***",
		},
		"LabelledSecrets": {
			reason: "Labelled secrets lose their values.",
			in:     `secretKey=abc accessKey: def "securityToken":"ghi" password=jkl X-Auth-Token: mno`,
			want:   `secretKey=*** accessKey: *** "securityToken":"***" password=*** X-Auth-Token: ***`,
		},
		"BareAK": {
			reason: "Something shaped like an AK is masked even unlabelled.",
			in:     "key " + ak + " is invalid",
			want:   "key *** is invalid",
		},
		"BareSK": {
			reason: "Something shaped like an SK is masked even unlabelled.",
			in:     "secret " + sk + " rejected",
			want:   "secret *** rejected",
		},
		"LongToken": {
			reason: "Security tokens are long opaque blobs.",
			in:     "token " + strings.Repeat("gQpjbi1ub3J0aC00", 10) + " expired",
			want:   "token *** expired",
		},
		"PlainNumbers": {
			reason: "A 20-digit number is not an AK.",
			in:     "size 12345678901234567890 bytes",
			want:   "size 12345678901234567890 bytes",
		},
		"OneLine": {
			reason: "Newlines and tabs become single spaces.",
			in:     "line one\n\tline two\r\n",
			want:   "line one line two",
		},
		"InvalidUTF8": {
			reason: "Invalid bytes cannot reach a Kubernetes string field.",
			in:     "bad \xff byte",
			want:   "bad ? byte",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := sanitize(tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\nsanitize(%q): -want, +got:\n%s", tc.reason, tc.in, diff)
			}
			if again := sanitize(got); again != got {
				t.Errorf("\nReason: sanitize must be idempotent\nsanitize(%q) = %q", got, again)
			}
		})
	}
}

func TestSanitizeStableAcrossPolls(t *testing.T) {
	a := sanitize(`{"error":{"code":"SDRS.0010","message":"internal"},"request_id":"1111-aaaa"}`)
	b := sanitize(`{"error":{"code":"SDRS.0010","message":"internal"},"request_id":"2222-bbbb"}`)
	if a != b {
		t.Errorf("messages differing only by request ID must sanitize equal: %q vs %q", a, b)
	}
}

func TestSanitizeBoundsLength(t *testing.T) {
	got := sanitize(strings.Repeat("<p>Service Unavailable</p> ", 1000))
	if n := utf8.RuneCountInString(got); n > maxMessageLen {
		t.Errorf("len = %d, want <= %d", n, maxMessageLen)
	}
	if !strings.HasSuffix(got, ellipsis) {
		t.Errorf("a cut message ends in %q: %q", ellipsis, got[len(got)-10:])
	}
}
