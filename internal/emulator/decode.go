package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	defaultLimit = 1000
	maxLimit     = 1000
	// maxIDFilter is how many IDs a list filter such as
	// protected_instance_ids may name (SDRS.0226).
	maxIDFilter = 30
	maxNameLen  = 64
)

// decodeJSON decodes a request body into v and turns every decoding
// problem into SDRS.0201 with a message naming the field. Unknown fields
// are ignored, as the service does.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalidParam("the request body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalidParam("the request body must hold exactly one JSON value")
	}
	return nil
}

// decodeOptionalJSON is decodeJSON for bodies the SDK may leave out.
func decodeOptionalJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return decodeJSON(body, v)
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return invalidParam("malformed JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return invalidParam("the request body must be a JSON object, not %s", typ.Value)
		}
		return invalidParam("field %q must be %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalidParam("malformed JSON: unexpected end of the body")
	}
	return invalidParam("malformed JSON: %v", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int32", "int64", "float64":
		return "a number"
	case "slice":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return goKind
}

// requireString checks a required string field: present and not blank.
func requireString(field string, v *string) (string, error) {
	if v == nil {
		return "", invalidParam("field %q is required", field)
	}
	if strings.TrimSpace(*v) == "" {
		return "", invalidParam("field %q must not be empty", field)
	}
	return *v, nil
}

// requireName is requireString followed by checkName.
func requireName(field string, v *string) (string, error) {
	name, err := requireString(field, v)
	if err != nil {
		return "", err
	}
	return name, checkName(field, name)
}

// strField is a request's string field and its name in the object.
type strField struct {
	name string
	v    *string
}

// requireStrings reads required string fields of the object under key,
// named in errors as key.field, and returns their values in order.
func requireStrings(key string, fields ...strField) ([]string, error) {
	out := make([]string, len(fields))
	for i, f := range fields {
		v, err := requireString(key+"."+f.name, f.v)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// requireMemberFields validates what creating a group member under key
// asks for, in this order: the group ID, the member's resource ID (named
// by id), its name and its optional description.
func requireMemberFields(key string, groupID *string, id strField, name, description *string) (string, string, string, error) {
	ids, err := requireStrings(key, strField{"server_group_id", groupID}, id)
	if err != nil {
		return "", "", "", err
	}
	n, err := requireName(key+".name", name)
	if err != nil {
		return "", "", "", err
	}
	if err := checkDescription(description); err != nil {
		return "", "", "", err
	}
	return ids[0], ids[1], n, nil
}

// decodeWrapped decodes a body that holds the request under one key,
// {"key": {...}}, exactly as a struct with that one field would (so type
// errors name the field as key.field), and fails unless the key holds an
// object.
func decodeWrapped[T any](body []byte, key string) (*T, error) {
	typ := reflect.StructOf([]reflect.StructField{{
		Name: "V", Type: reflect.TypeFor[*T](), Tag: reflect.StructTag(`json:"` + key + `"`),
	}})
	w := reflect.New(typ)
	if err := decodeJSON(body, w.Interface()); err != nil {
		return nil, err
	}
	p := w.Elem().Field(0).Interface().(*T)
	if p == nil {
		return nil, invalidParam("field %q is required", key)
	}
	return p, nil
}

// checkName validates a resource name: 1..64 bytes of letters, digits,
// '.', '_', '-' (and non-ASCII letters, which Huawei Cloud also allows).
func checkName(field, name string) error {
	if name == "" || len(name) > maxNameLen {
		return badRequest("SDRS.0202", "field %q must be 1 to %d bytes long", field, maxNameLen)
	}
	for _, r := range name {
		ok := r == '.' || r == '_' || r == '-' || (r >= '0' && r <= '9') ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r >= utf8.RuneSelf
		if !ok {
			return badRequest("SDRS.0202", "field %q may hold only letters, digits, '.', '_' and '-'", field)
		}
	}
	return nil
}

// checkDescription validates an optional description: up to 64 bytes, no
// angle brackets.
func checkDescription(d *string) error {
	if d == nil {
		return nil
	}
	if len(*d) > maxNameLen || strings.ContainsAny(*d, "<>") {
		return badRequest("SDRS.0212", "field \"description\" must be at most %d bytes without '<' or '>'", maxNameLen)
	}
	return nil
}

// paging is the limit/offset pair of list calls.
type paging struct {
	limit, offset int
}

func parsePaging(q url.Values) (paging, error) {
	p := paging{limit: defaultLimit}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 || n > maxLimit {
			return p, badRequest(codeInvalidLimit, "limit must be an integer from 0 to %d", maxLimit)
		}
		p.limit = n
	}
	if v, ok := q["offset"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 {
			return p, badRequest(codeInvalidOffset, "offset must be a non-negative integer")
		}
		p.offset = n
	}
	return p, nil
}

// page cuts one page out of a filtered list.
func page[T any](items []T, p paging) []T {
	if p.offset >= len(items) {
		return []T{}
	}
	end := min(p.offset+p.limit, len(items))
	return items[p.offset:end]
}

// parseIDList reads a list filter such as server_group_ids. The service
// documents a URL-encoded array; both ["a","b"] and a,b are accepted.
func parseIDList(field, raw string) ([]string, error) {
	raw = strings.TrimSpace(raw)
	var ids []string
	if strings.HasPrefix(raw, "[") {
		if err := json.Unmarshal([]byte(raw), &ids); err != nil {
			return nil, invalidParam("%s must be a JSON array of strings or a comma-separated list", field)
		}
	} else {
		for _, id := range strings.Split(raw, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) > maxIDFilter {
		return nil, badRequest(codeTooManyIDs, "%s may name at most %d IDs", field, maxIDFilter)
	}
	return ids, nil
}

// fuzzy is the service's name filter: a case-insensitive substring match.
func fuzzy(name, filter string) bool {
	return strings.Contains(strings.ToLower(name), strings.ToLower(filter))
}

// statusFilter matches a status against a filter that may list several
// comma-separated values.
func statusFilter(status, filter string) bool {
	for _, s := range strings.Split(filter, ",") {
		if strings.TrimSpace(s) == status {
			return true
		}
	}
	return false
}
