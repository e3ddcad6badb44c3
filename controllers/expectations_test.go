package controllers

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestWriteExpectations(t *testing.T) {
	key := types.NamespacedName{Namespace: "ns", Name: "web"}
	cases := map[string]struct {
		reason string
		wrote  string // our last write's resourceVersion; "" for none
		cached string
		at     time.Duration
		want   bool
	}{
		"NothingWritten": {reason: "Without a write of ours any copy is fine.", cached: "7", want: false},
		"CacheBehind":    {reason: "Our write at 8 has not reached the cache, which still holds 7.", wrote: "8", cached: "7", want: true},
		"CacheBehindLonger": {reason: "Resource versions compare as integers, not as strings.",
			wrote: "10", cached: "9", want: true},
		"CacheHasIt": {reason: "The cache holds exactly our write.", wrote: "8", cached: "8", want: false},
		"CacheNewer": {reason: "Someone wrote after us and the cache has that: act on it.", wrote: "8", cached: "9", want: false},
		"NotNumeric": {reason: "A resource version that does not compare is never held back.", wrote: "8", cached: "abc", want: false},
		"GivenUpOn":  {reason: "After the TTL the copy is used (the patch's resourceVersion still guards it).", wrote: "8", cached: "7", at: expectationTTL + time.Second, want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newWriteExpectations()
			e.wrote(key, tc.wrote, now)
			if got := e.behind(key, tc.cached, now.Add(tc.at)); got != tc.want {
				t.Errorf("\nReason: %s\nbehind = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
	e := newWriteExpectations()
	e.wrote(key, "8", now)
	if e.behind(key, "8", now); e.behind(key, "7", now) {
		t.Error("a met expectation is dropped: an older copy later (a relist) is not held back for ever")
	}
	e.wrote(key, "8", now)
	e.forget(key)
	if e.behind(key, "7", now) {
		t.Error("a forgotten (deleted) object expects nothing")
	}
	var none *writeExpectations
	none.wrote(key, "8", now)
	if none.behind(key, "7", now) {
		t.Error("a reconciler without expectations holds nothing back")
	}
}
