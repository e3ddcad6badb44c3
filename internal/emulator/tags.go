package emulator

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Tag limits from the SDK model comments (model_resource_tag.go).
const (
	maxTags        = 10
	maxTagKeyLen   = 36
	maxTagValueLen = 43
	// forbiddenTagChars may not appear in keys or values.
	forbiddenTagChars = "*<>\\=,|/"
)

func validTagText(s string) bool {
	for _, r := range s {
		if r < 32 || strings.ContainsRune(forbiddenTagChars, r) {
			return false
		}
	}
	return true
}

func checkTag(t tagBody) (Tag, error) {
	if t.Key == nil || strings.TrimSpace(*t.Key) == "" {
		return Tag{}, badRequest(codeTagKeyEmpty, "Tag key is blank or an empty string")
	}
	key := *t.Key
	if utf8.RuneCountInString(key) > maxTagKeyLen || !validTagText(key) {
		return Tag{}, badRequest(codeTagKeyInvalid, "Invalid tag key %q: at most %d characters, none of %s or control characters", key, maxTagKeyLen, forbiddenTagChars)
	}
	if t.Value == nil {
		return Tag{}, badRequest("SDRS.2208", "Null tag value for key %q", key)
	}
	if utf8.RuneCountInString(*t.Value) > maxTagValueLen || !validTagText(*t.Value) {
		return Tag{}, badRequest(codeTagValueInvalid, "Invalid tag value for key %q: at most %d characters, none of %s or control characters", key, maxTagValueLen, forbiddenTagChars)
	}
	return Tag{Key: key, Value: *t.Value}, nil
}

// tagsFromBody validates an optional tag list of a create request.
func tagsFromBody(list *[]tagBody) ([]Tag, error) {
	if list == nil {
		return nil, nil
	}
	var out []Tag
	for _, t := range *list {
		tag, err := checkTag(t)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(out, func(x Tag) bool { return x.Key == tag.Key }) {
			return nil, badRequest(codeTagDuplicate, "Tag parameter contains duplicate key %q", tag.Key)
		}
		out = append(out, tag)
	}
	if len(out) > maxTags {
		return nil, badRequest(codeTagLimit, "Number of tags exceeds the upper limit (%d)", maxTags)
	}
	return out, nil
}

// setTags adds or overwrites tags, refusing to go past the limit.
func setTags(in *Instance, tags []Tag) error {
	merged := slices.Clone(in.Tags)
	for _, t := range tags {
		if i := slices.IndexFunc(merged, func(x Tag) bool { return x.Key == t.Key }); i >= 0 {
			merged[i].Value = t.Value
		} else {
			merged = append(merged, t)
		}
	}
	if len(merged) > maxTags {
		return badRequest(codeTagLimit, "Number of tags exceeds the upper limit (%d)", maxTags)
	}
	in.Tags = merged
	return nil
}

func (e *Emulator) addTag(c *call) error {
	in, _, err := e.instance(c, c.params["protected_instance_id"])
	if err != nil {
		return err
	}
	var b struct {
		Tag *tagBody `json:"tag"`
	}
	if err := decodeJSON(c.body, &b); err != nil {
		return err
	}
	if b.Tag == nil {
		return invalidParam("field %q is required", "tag")
	}
	tag, err := checkTag(*b.Tag)
	if err != nil {
		return err
	}
	if err := setTags(in, []Tag{tag}); err != nil {
		return err
	}
	in.UpdatedAt = e.clock.Now()
	return c.noContent()
}

func (e *Emulator) batchTags(c *call) error {
	in, _, err := e.instance(c, c.params["protected_instance_id"])
	if err != nil {
		return err
	}
	var b struct {
		Action *string    `json:"action"`
		Tags   *[]tagBody `json:"tags"`
	}
	if err := decodeJSON(c.body, &b); err != nil {
		return err
	}
	action := deref(b.Action)
	if action != "create" && action != "delete" {
		return badRequest(codeTagAction, "action only create or delete")
	}
	if b.Tags == nil || len(*b.Tags) == 0 {
		return badRequest(codeTagListEmpty, "Empty tag list")
	}
	if action == "create" {
		tags, err := tagsFromBody(b.Tags)
		if err != nil {
			return err
		}
		if err := setTags(in, tags); err != nil {
			return err
		}
		in.UpdatedAt = e.clock.Now()
		return c.noContent()
	}
	seen := map[string]bool{}
	for _, t := range *b.Tags {
		if t.Key == nil || strings.TrimSpace(*t.Key) == "" {
			return badRequest(codeTagKeyEmpty, "Tag key is blank or an empty string")
		}
		if seen[*t.Key] {
			return badRequest(codeTagDuplicate, "Tag parameter contains duplicate key %q", *t.Key)
		}
		seen[*t.Key] = true
	}
	// Deleting a key that is not there succeeds; a given value must match.
	for _, t := range *b.Tags {
		in.Tags = slices.DeleteFunc(in.Tags, func(x Tag) bool {
			return x.Key == *t.Key && (t.Value == nil || x.Value == *t.Value)
		})
	}
	in.UpdatedAt = e.clock.Now()
	return c.noContent()
}

func (e *Emulator) deleteTag(c *call) error {
	in, _, err := e.instance(c, c.params["protected_instance_id"])
	if err != nil {
		return err
	}
	key := c.params["key"]
	i := slices.IndexFunc(in.Tags, func(x Tag) bool { return x.Key == key })
	if i < 0 {
		return errorf(http.StatusNotFound, codeTagNotFound, "Specified tag key %q is not found", key)
	}
	in.Tags = slices.Delete(in.Tags, i, i+1)
	in.UpdatedAt = e.clock.Now()
	return c.noContent()
}

func (e *Emulator) listTags(c *call) error {
	in, _, err := e.instance(c, c.params["protected_instance_id"])
	if err != nil {
		return err
	}
	return c.ok(http.StatusOK, struct {
		Tags []Tag `json:"tags"`
	}{append([]Tag{}, in.Tags...)})
}

type tagValues struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

func (e *Emulator) projectTags(c *call) error {
	byKey := map[string][]string{}
	for _, in := range e.st.Instances {
		for _, t := range in.Tags {
			if !slices.Contains(byKey[t.Key], t.Value) {
				byKey[t.Key] = append(byKey[t.Key], t.Value)
			}
		}
	}
	out := []tagValues{}
	for k, vs := range byKey {
		slices.Sort(vs)
		out = append(out, tagValues{Key: k, Values: vs})
	}
	slices.SortFunc(out, func(a, b tagValues) int { return strings.Compare(a.Key, b.Key) })
	return c.ok(http.StatusOK, struct {
		Tags []tagValues `json:"tags"`
	}{out})
}

type byTagsBody struct {
	Tags       *[]tagValues `json:"tags"`
	TagsAny    *[]tagValues `json:"tags_any"`
	NotTags    *[]tagValues `json:"not_tags"`
	NotTagsAny *[]tagValues `json:"not_tags_any"`
	Limit      *string      `json:"limit"`
	Offset     *string      `json:"offset"`
	Action     *string      `json:"action"`
	Matches    *[]struct {
		Key   *string `json:"key"`
		Value *string `json:"value"`
	} `json:"matches"`
}

type resourceEntry struct {
	ResourceID     string       `json:"resource_id"`
	ResourceDetail instanceView `json:"resource_detail"`
	Tags           []Tag        `json:"tags"`
	ResourceName   string       `json:"resource_name"`
}

func (e *Emulator) instancesByTags(c *call) error {
	var b byTagsBody
	if err := decodeJSON(c.body, &b); err != nil {
		return err
	}
	action := deref(b.Action)
	if action != "filter" && action != "count" {
		return badRequest(codeByTagsAction, "action can be set to only filter or count")
	}
	if action == "count" && (b.Limit != nil || b.Offset != nil) {
		return badRequest(codeByTagsCountPaging, "limit and offset are not supported when action is set to count")
	}
	p := paging{limit: defaultLimit}
	if b.Limit != nil {
		n, err := strconv.Atoi(*b.Limit)
		if err != nil || n < 1 || n > maxLimit {
			return badRequest(codeInvalidLimit, "limit must be an integer from 1 to %d", maxLimit)
		}
		p.limit = n
	}
	if b.Offset != nil {
		n, err := strconv.Atoi(*b.Offset)
		if err != nil || n < 0 {
			return badRequest(codeInvalidOffset, "offset must be a non-negative integer")
		}
		p.offset = n
	}
	nameFilter := ""
	if b.Matches != nil {
		if len(*b.Matches) == 0 {
			return badRequest("SDRS.2212", "Empty matches parameter")
		}
		for _, m := range *b.Matches {
			if deref(m.Key) != "resource_name" {
				return badRequest("SDRS.2213", "matches supports only the key resource_name")
			}
			nameFilter = deref(m.Value)
		}
	}
	var out []*Instance
	for _, in := range e.st.Instances {
		if nameFilter != "" && !fuzzy(in.Name, nameFilter) {
			continue
		}
		if !tagsMatch(in.Tags, b) {
			continue
		}
		out = append(out, in)
	}
	slices.SortFunc(out, bySeq)
	if action == "count" {
		return c.ok(http.StatusOK, struct {
			TotalCount int `json:"total_count"`
		}{len(out)})
	}
	resources := []resourceEntry{}
	for _, in := range page(out, p) {
		resources = append(resources, resourceEntry{
			ResourceID: in.ID, ResourceDetail: e.instanceView(in),
			Tags: append([]Tag{}, in.Tags...), ResourceName: in.Name,
		})
	}
	return c.ok(http.StatusOK, struct {
		Resources  []resourceEntry `json:"resources"`
		TotalCount int             `json:"total_count"`
	}{resources, len(out)})
}

// tagsMatch applies the four tag filters: keys are ANDed in tags/not_tags
// and ORed in tags_any/not_tags_any; values of one key are ORed, and an
// empty value list matches any value.
func tagsMatch(tags []Tag, b byTagsBody) bool {
	has := func(f tagValues) bool {
		for _, t := range tags {
			if t.Key == f.Key && (len(f.Values) == 0 || slices.Contains(f.Values, t.Value)) {
				return true
			}
		}
		return false
	}
	all := func(fs *[]tagValues) bool {
		for _, f := range tagFilters(fs) {
			if !has(f) {
				return false
			}
		}
		return true
	}
	anyOf := func(fs *[]tagValues) bool {
		for _, f := range tagFilters(fs) {
			if has(f) {
				return true
			}
		}
		return false
	}
	if !all(b.Tags) {
		return false
	}
	if b.TagsAny != nil && len(*b.TagsAny) > 0 && !anyOf(b.TagsAny) {
		return false
	}
	if b.NotTags != nil && len(*b.NotTags) > 0 && all(b.NotTags) {
		return false
	}
	if anyOf(b.NotTagsAny) {
		return false
	}
	return true
}

func tagFilters(fs *[]tagValues) []tagValues {
	if fs == nil {
		return nil
	}
	return *fs
}
