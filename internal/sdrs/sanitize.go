package sdrs

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxMessageLen bounds a message that may end up in a condition or event:
// an error body can be a whole HTML page.
const maxMessageLen = 512

const (
	redacted  = "***"
	ellipsis  = "..."
	trimChars = " \t,;:"
)

// Patterns removed or masked by sanitize. Order matters: signature
// fragments and labelled secrets go first, then request IDs, then anything
// that only looks like a key.
var (
	// Authorization header fragments: SDK-HMAC-SHA256 Access=AK,
	// SignedHeaders=..., Signature=...; AWS-style Credential=AK/scope.
	reSigFragment = regexp.MustCompile(`(?i)\b(Credential|Access|Signature)=[^\s,;"'&]*`)

	// Labelled secrets in headers, query strings or JSON: the label stays,
	// the value goes.
	reLabelled = regexp.MustCompile(`(?i)\b(access[_-]?key(?:[_-]?id)?|secret[_-]?(?:access[_-]?)?key|security[_-]?token|x-security-token|x-auth-token|x-subject-token|auth[_-]?token|password|passwd|ak|sk)(["']?\s*[:=]\s*["']?)[^\s"',;&}]+`)

	// Request and trace IDs change on every call; leaving them in would
	// rewrite status on every poll. The whole fragment is removed.
	reRequestID = regexp.MustCompile(`(?i)[\s,;(\[]*["']?\b(?:x-)?(?:iam-)?(?:request|trace)[ _-]?id["']?\s*[:=]?\s*["']?[A-Za-z0-9][A-Za-z0-9._:-]*["']?[)\]]?`)

	// Huawei Cloud access keys: 20 upper-case letters and digits.
	reAKLike = regexp.MustCompile(`\b[A-Z0-9]{20}\b`)
	// Secret keys: 40 letters and digits.
	reSKLike = regexp.MustCompile(`\b[A-Za-z0-9]{40}\b`)
	// Security tokens and other long opaque blobs.
	reLongToken = regexp.MustCompile(`[A-Za-z0-9+/=_-]{120,}`)

	reSpaces = regexp.MustCompile(`\s+`)
)

// sanitize makes a cloud or transport message safe and stable to publish:
// no credential fragment, no request ID, one line, bounded length. Every
// typed error's message passes through it.
func sanitize(msg string) string {
	if msg == "" {
		return ""
	}
	if !utf8.ValidString(msg) {
		msg = strings.ToValidUTF8(msg, "?")
	}
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, msg)
	msg = reSigFragment.ReplaceAllString(msg, "${1}="+redacted)
	msg = reLabelled.ReplaceAllString(msg, "${1}${2}"+redacted)
	msg = reRequestID.ReplaceAllString(msg, "")
	msg = reAKLike.ReplaceAllStringFunc(msg, func(s string) string {
		if strings.IndexFunc(s, unicode.IsLetter) < 0 {
			return s // a plain number
		}
		return redacted
	})
	msg = reSKLike.ReplaceAllStringFunc(msg, func(s string) string {
		if strings.IndexFunc(s, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsUpper(r) }) < 0 {
			return s // a long lower-case word
		}
		return redacted
	})
	msg = reLongToken.ReplaceAllString(msg, redacted)
	msg = reSpaces.ReplaceAllString(msg, " ")
	msg = strings.Trim(msg, trimChars)
	if utf8.RuneCountInString(msg) > maxMessageLen {
		r := []rune(msg)
		msg = string(r[:maxMessageLen-len(ellipsis)]) + ellipsis
	}
	return msg
}
