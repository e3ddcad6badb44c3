package memlimit

import "testing"

func TestApply(t *testing.T) {
	const mi = 1 << 20
	cgroup := func(n int64) func() (int64, bool) { return func() (int64, bool) { return n, n > 0 } }
	cases := map[string]struct {
		reason   string
		flag     string
		env      string
		cgroup   int64
		want     int64
		source   Source
		setCalls []int64
		wantErr  bool
	}{
		"ContainerLimit": {reason: "A 256Mi container limit gives a soft limit of 75% of it.",
			cgroup: 256 * mi, want: 256 * mi * 3 / 4, source: FromCgroup, setCalls: []int64{256 * mi * 3 / 4}},
		"NoLimitAnywhere": {reason: "Outside a memory-limited container the runtime keeps its default.",
			source: None},
		"FlagWins": {reason: "An explicit --memory-limit is used as given.",
			flag: "180Mi", cgroup: 256 * mi, want: 180 * mi, source: FromFlag, setCalls: []int64{180 * mi}},
		"FlagZeroSetsNone": {reason: "--memory-limit=0 leaves the runtime's default even in a container.",
			flag: "0", cgroup: 256 * mi, source: None, setCalls: []int64{-1}},
		"EnvKept": {reason: "GOMEMLIMIT, which the runtime read at start, is not overridden by the container limit.",
			env: "200MiB", cgroup: 256 * mi, want: 123, source: FromEnv, setCalls: []int64{-1}},
		"BadFlag": {reason: "A limit that is not a quantity is refused at start.",
			flag: "lots", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var calls []int64
			set := func(n int64) int64 { calls = append(calls, n); return 123 }
			got, src, err := apply(tc.flag, DefaultRatio, tc.env, cgroup(tc.cgroup), set)
			if (err != nil) != tc.wantErr {
				t.Fatalf("\nReason: %s\nerr = %v, want error %v", tc.reason, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if got != tc.want || src != tc.source || len(calls) != len(tc.setCalls) {
				t.Fatalf("\nReason: %s\ngot %d from %s with SetMemoryLimit%v, want %d from %s with %v", tc.reason, got, src, calls, tc.want, tc.source, tc.setCalls)
			}
			for i := range calls {
				if calls[i] != tc.setCalls[i] {
					t.Errorf("\nReason: %s\nSetMemoryLimit(%d), want %d", tc.reason, calls[i], tc.setCalls[i])
				}
			}
		})
	}
}

func TestParseLimit(t *testing.T) {
	for in, want := range map[string]int64{"max\n": 0, "268435456\n": 268435456, "9223372036854771712": 0, "": 0, "junk": 0} {
		got, ok := parseLimit(in)
		if got != want || ok != (want > 0) {
			t.Errorf("parseLimit(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
}
