// Package health runs the Argo CD health checks for ProtectionGroup
// (config/argocd/health.lua), ProtectionGroupDrill
// (config/argocd/health-drill.lua) and DRPlan
// (config/argocd/health-drplan.lua) the way Argo CD runs them, so that
// tests can check the scripts on objects in every state.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Status is an Argo CD health status.
type Status string

// The health statuses a health check may return, as Argo CD names them.
const (
	Healthy     Status = "Healthy"
	Progressing Status = "Progressing"
	Degraded    Status = "Degraded"
	Suspended   Status = "Suspended"
	Missing     Status = "Missing"
	Unknown     Status = "Unknown"
)

// Result is what a health check returns: {status = ..., message = ...}.
type Result struct {
	Status  Status
	Message string
}

// timeout bounds one run of the script, as Argo CD bounds it.
const timeout = time.Second

// InvalidStatusMessage is the message Argo CD shows, with status Unknown,
// when a script returns a status it does not know.
const InvalidStatusMessage = "Lua returned an invalid health status"

// RunScript runs a Lua health script on obj as Argo CD's ExecuteHealthLua
// does: a fresh interpreter with only the package, base and table libraries
// opened (Argo CD adds a reduced os library, which the script does not
// use), a one-second limit, the object converted to a Lua table in the
// global obj, and the table the script returns read as {status, message}.
// A status Argo CD does not know becomes Unknown, as there.
func RunScript(script string, obj *unstructured.Unstructured) (Result, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return Result{}, fmt.Errorf("cannot open Lua library %q: %w", lib.name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	l.SetContext(ctx)

	l.SetGlobal("obj", toLua(l, obj.Object))
	if err := l.DoString(script); err != nil {
		return Result{}, fmt.Errorf("health script failed: %w", err)
	}
	ret := l.Get(-1)
	tbl, ok := ret.(*lua.LTable)
	if !ok {
		return Result{}, fmt.Errorf("expect table output from Lua script, not %s", ret.Type())
	}
	res := Result{}
	if s, ok := tbl.RawGetString("status").(lua.LString); ok {
		res.Status = Status(s)
	}
	if m, ok := tbl.RawGetString("message").(lua.LString); ok {
		res.Message = string(m)
	}
	if !res.Status.valid() {
		return Result{Status: Unknown, Message: InvalidStatusMessage}, nil
	}
	return res, nil
}

// Evaluate is the health Argo CD shows for obj with script installed as
// its custom health check (gitops-engine's GetResourceHealth): an object
// being deleted is Progressing "Pending deletion" without running the
// script; a script error is Unknown with the error as message.
func Evaluate(script string, obj *unstructured.Unstructured) Result {
	if obj.GetDeletionTimestamp() != nil {
		return Result{Status: Progressing, Message: "Pending deletion"}
	}
	res, err := RunScript(script, obj)
	if err != nil {
		return Result{Status: Unknown, Message: err.Error()}
	}
	return res
}

func (s Status) valid() bool {
	switch s {
	case Healthy, Progressing, Degraded, Suspended, Missing, Unknown:
		return true
	}
	return false
}

// toLua converts a decoded JSON value into Lua values the way Argo CD's
// decodeValue does: objects become tables keyed by string, arrays become
// 1-based tables, numbers become Lua numbers, null becomes nil.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case int:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for k, item := range v {
			t.RawSetH(lua.LString(k), toLua(l, item))
		}
		return t
	}
	return lua.LNil
}
