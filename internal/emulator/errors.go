package emulator

import (
	"fmt"
	"net/http"
)

// SDRS error codes (OTC-API appendixes/error_codes.rst). Only the codes the
// emulator emits are listed; sdrs-api.md §6.4 and §8.2 give their meaning.
const (
	codeInvalidParams       = "SDRS.0201"
	codeInvalidAZ           = "SDRS.0203"
	codeInvalidDomain       = "SDRS.0205"
	codeInvalidAction       = "SDRS.0206"
	codeInstanceNotFound    = "SDRS.0208"
	codeInvalidDisk         = "SDRS.0211"
	codeReplicationStatus   = "SDRS.0214"
	codeInvalidIP           = "SDRS.0219"
	codeInvalidLimit        = "SDRS.0221"
	codeInvalidOffset       = "SDRS.0222"
	codeTooManyIDs          = "SDRS.0226"
	codeGroupQuota          = "SDRS.0305"
	codeReplicationQuota    = "SDRS.0306"
	codeGroupHasInstances   = "SDRS.1001"
	codeGroupState          = "SDRS.1002"
	codeGroupHasDrills      = "SDRS.1003"
	codeGroupHasReplication = "SDRS.1010"
	codeGroupNotFound       = "SDRS.1013"
	codeAZMismatch          = "SDRS.1303"
	codeServerProtected     = "SDRS.1305"
	codeNICNotFound         = "SDRS.1310"
	codePrimaryNIC          = "SDRS.1311"
	codeServerNotStopped    = "SDRS.1316"
	codeProductionRunning   = "SDRS.1319"
	codeInstanceCreateState = "SDRS.1323"
	codeInstanceDeleteState = "SDRS.1325"
	codeServerNotFound      = "SDRS.1326"
	codeNICState            = "SDRS.1327"
	codeInstanceNotReady    = "SDRS.1328"
	codeNICLimit            = "SDRS.1340"
	codeSameFlavor          = "SDRS.1341"
	codeDRServerRunning     = "SDRS.1342"
	codeReplicationNotReady = "SDRS.1601"
	codeDeviceInUse         = "SDRS.1603"
	codeNotAttached         = "SDRS.1604"
	codeAlreadyAttached     = "SDRS.1605"
	codeReplicationNotFound = "SDRS.1608"
	codeNotInGroup          = "SDRS.1611"
	codeDiskInUse           = "SDRS.1811"
	codeStillSyncing        = "SDRS.1830"
	codeDrillNotFound       = "SDRS.1902"
	codeDrillDeleteState    = "SDRS.1913"
	codeDrillVPCUsed        = "SDRS.1921"
	codeTagAction           = "SDRS.2201"
	codeTagListEmpty        = "SDRS.2202"
	codeTagLimit            = "SDRS.2203"
	codeTagKeyInvalid       = "SDRS.2204"
	codeTagKeyEmpty         = "SDRS.2205"
	codeTagNotFound         = "SDRS.2206"
	codeTagValueInvalid     = "SDRS.2207"
	codeTagDuplicate        = "SDRS.2209"
	codeByTagsAction        = "SDRS.2210"
	codeByTagsCountPaging   = "SDRS.2211"
	codeInternal            = "SDRS.0010"

	// Job-level failure codes (the job's error_code, never an HTTP answer).
	codeEnableFailed    = "SDRS.1027"
	codeDisableFailed   = "SDRS.1028"
	codeReverseFailed   = "SDRS.1029"
	codeFailoverFailed  = "SDRS.1030"
	codeReprotectFailed = "SDRS.1032"
)

// API gateway codes: they answer before the SDRS service sees the request.
const (
	codeNoSuchAPI = "APIGW.0101"
	codeAuth      = "APIGW.0301"
	codeThrottled = "APIGW.0308"
)

// ECS codes for the ECS subset.
const (
	codeECSBadRequest     = "Ecs.0005"
	codeECSServerNotFound = "Ecs.0114"
	codeECSFailure        = "Ecs.0000"
)

// apiError is an error answered to the client as
// {"error":{"code":...,"message":...}} with an HTTP status.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// badRequest is the usual SDRS answer: every SDRS error, including "not
// found", is HTTP 400.
func badRequest(code, format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, code, format, args...)
}

func invalidParam(format string, args ...any) *apiError {
	return badRequest(codeInvalidParams, format, args...)
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
