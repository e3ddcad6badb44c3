package controllers

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// jobFromTemplate builds a Job from a user's template: named and labelled
// by the operator, owned by owner (so it goes with it), and with env added
// to every container. A template without a restart policy gets Never, as
// a Job requires.
func jobFromTemplate(scheme *runtime.Scheme, owner client.Object, tpl *batchv1.JobTemplateSpec, name string, labels map[string]string, env []corev1.EnvVar) (*batchv1.Job, error) {
	t := tpl.DeepCopy()
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: owner.GetNamespace(), Labels: t.Labels, Annotations: t.Annotations},
		Spec:       t.Spec,
	}
	if job.Labels == nil {
		job.Labels = map[string]string{}
	}
	for k, v := range labels {
		job.Labels[k] = v
	}
	pod := &job.Spec.Template.Spec
	for i := range pod.Containers {
		pod.Containers[i].Env = append(pod.Containers[i].Env, env...)
	}
	if pod.RestartPolicy == "" {
		pod.RestartPolicy = corev1.RestartPolicyNever
	}
	if err := controllerutil.SetControllerReference(owner, job, scheme); err != nil {
		return nil, err
	}
	return job, nil
}
