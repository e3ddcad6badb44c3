package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// groupsPollInterval is how often the sample groups' Ready is read.
const groupsPollInterval = time.Second

// credentials is the Secret the ProviderConfig names, in its own
// namespace, as a person would create it for the real cloud.
func credentials(p providerSettings, ak, sk string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.secretNamespace, Name: p.secretName},
		StringData: map[string]string{"accessKey": ak, "secretKey": sk},
	}
}

// objects turns unstructured objects into what ControlPlane.CreateAll
// takes; the control plane is fresh, so nothing exists yet and a plain
// create is enough.
func objects(objs ...*unstructured.Unstructured) []client.Object {
	out := make([]client.Object, len(objs))
	for i, o := range objs {
		out[i] = o
	}
	return out
}

// waitGroupsReady polls until every group has Ready=True for its current
// generation. On timeout it returns each group's Ready reason, so the
// caller can say what is still going on.
func waitGroupsReady(ctx context.Context, cl client.Client, groups []*unstructured.Unstructured, timeout time.Duration) (pending []string, err error) {
	err = wait.PollUntilContextTimeout(ctx, groupsPollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		pending = pending[:0]
		for _, g := range groups {
			cur := &unstructured.Unstructured{}
			cur.SetGroupVersionKind(g.GroupVersionKind())
			if err := cl.Get(ctx, client.ObjectKeyFromObject(g), cur); err != nil {
				pending = append(pending, fmt.Sprintf("%s (%v)", g.GetName(), err))
				continue
			}
			if ok, why := readyNow(cur); !ok {
				pending = append(pending, fmt.Sprintf("%s (%s)", g.GetName(), why))
			}
		}
		sort.Strings(pending)
		return len(pending) == 0, nil
	})
	return pending, err
}

// readyNow is what `kubectl wait --for=condition=Ready` checks: the Ready
// condition is True, and its observedGeneration (or, without one,
// status.observedGeneration) is not older than the object, so a Ready left
// over from before a spec change does not count.
func readyNow(o *unstructured.Unstructured) (bool, string) {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] != "Ready" {
			continue
		}
		status, _ := m["status"].(string)
		reason, _ := m["reason"].(string)
		gen, found, _ := unstructured.NestedInt64(m, "observedGeneration")
		if !found {
			gen, found, _ = unstructured.NestedInt64(o.Object, "status", "observedGeneration")
		}
		if found && gen < o.GetGeneration() {
			return false, "Ready is for an older generation"
		}
		if status == "True" {
			return true, ""
		}
		return false, strings.TrimSpace("Ready=" + status + " " + reason)
	}
	return false, "no Ready condition yet"
}
