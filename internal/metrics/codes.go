package metrics

import (
	"strings"

	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// Values of the code label besides the codes themselves.
const (
	// codeNone labels an error that carried no cloud code (a timeout, a
	// refused connection, a malformed answer).
	codeNone = "none"
	// codeOther labels every code the operator does not know.
	codeOther = "other"
)

// jobFailureCodes are the codes SDRS documents for failed jobs
// (sdrs-api.md, job-level failures): create and delete group, enable and
// disable protection, planned failover, failover, re-protect.
var jobFailureCodes = map[string]bool{
	"SDRS.1014": true,
	"SDRS.1016": true,
	"SDRS.1027": true,
	"SDRS.1028": true,
	"SDRS.1029": true,
	"SDRS.1030": true,
	"SDRS.1032": true,
}

// codeLabel maps a cloud error code to a label value from a fixed set:
// the documented job failure codes, the codes internal/sdrs knows (one by
// one or by family), "other" and "none". A label value never comes raw
// from the cloud: a proxy or a misbehaving endpoint answering a new code
// on every call would otherwise grow a series per code, and its text would
// reach every dashboard.
func codeLabel(code string) string {
	up := strings.ToUpper(strings.TrimSpace(code))
	if up == "" {
		return codeNone
	}
	if jobFailureCodes[up] {
		return up
	}
	if known, ok := sdrs.KnownErrorCode(up); ok {
		return known
	}
	return codeOther
}
