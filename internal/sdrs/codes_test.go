package sdrs

import "testing"

func TestKnownErrorCode(t *testing.T) {
	cases := map[string]struct {
		code  string
		want  string
		known bool
	}{
		"TableCode":        {code: "SDRS.1002", want: "SDRS.1002", known: true},
		"ECSSpelling":      {code: "Ecs.0114", want: "ECS.0114", known: true},
		"TargetCode":       {code: "SDRS.0201", want: "SDRS.0201", known: true},
		"FamilyAPIGW":      {code: "APIGW.0301", want: "APIGW.03*", known: true},
		"FamilyIAM":        {code: "IAM.1234", want: "IAM.*", known: true},
		"Unknown":          {code: "SDRS.9999"},
		"MadeUp":           {code: "<script>alert(1)</script>"},
		"Empty":            {code: ""},
		"OnlyBlanks":       {code: "  "},
		"PaddedTableEntry": {code: " sdrs.1013 ", want: "SDRS.1013", known: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := KnownErrorCode(tc.code)
			if got != tc.want || ok != tc.known {
				t.Errorf("KnownErrorCode(%q) = %q, %v; want %q, %v", tc.code, got, ok, tc.want, tc.known)
			}
		})
	}
}
