package sdrs

import "strings"

// familySuffix marks a label that stands for a family of codes.
const familySuffix = "*"

// KnownErrorCode returns the canonical spelling of a cloud error code this
// package gives a meaning to, and false for any other. Codes known one by
// one come back as themselves (upper-cased, as the code table spells them);
// codes known by family (APIGW.03xx, IAM.) come back as the family, such as
// "APIGW.03*". The answers are a fixed set, so metrics can label by them
// without the cloud choosing label values.
func KnownErrorCode(code string) (string, bool) {
	up := strings.ToUpper(strings.TrimSpace(code))
	if up == "" {
		return "", false
	}
	if _, ok := codeTable[up]; ok {
		return up, true
	}
	for _, codes := range targetCodes {
		if _, ok := codes[up]; ok {
			return up, true
		}
	}
	for _, p := range codePrefixes {
		if strings.HasPrefix(up, p.prefix) {
			return p.prefix + familySuffix, true
		}
	}
	return "", false
}
