package kubetest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/wdiazux/infra/internal/kubetest"
)

// kstatusOf is what Helm v4's wait (fluxcd/cli-utils' kstatus) makes of
// the object the server holds now.
func kstatusOf(t *testing.T, cfg *rest.Config, gvr schema.GroupVersionResource, ns, name string) *status.Result {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	u, err := dyn.Resource(gvr).Namespace(ns).Get(t.Context(), name, metav1.GetOptions{})
	require.NoError(t, err)
	res, err := status.Compute(u)
	require.NoError(t, err)
	return res
}

// waitFor polls cond until it holds, failing the test after a minute with
// what cond last said.
func waitFor(t *testing.T, what string, cond func(ctx context.Context) (bool, string, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	last := "not checked yet"
	for {
		ok, msg, err := cond(ctx)
		require.NoError(t, err, what)
		if ok {
			return
		}
		last = msg
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not reached within a minute; last: %s", what, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// untilKstatus waits until kstatus says want for the object.
func untilKstatus(t *testing.T, cfg *rest.Config, gvr schema.GroupVersionResource, ns, name string, want status.Status) *status.Result {
	t.Helper()
	var res *status.Result
	waitFor(t, gvr.Resource+"/"+name+" "+want.String(), func(context.Context) (bool, string, error) {
		res = kstatusOf(t, cfg, gvr, ns, name)
		return res.Status == want, res.Status.String() + ": " + res.Message, nil
	})
	return res
}

var (
	deployments  = appsv1.SchemeGroupVersion.WithResource("deployments")
	statefulsets = appsv1.SchemeGroupVersion.WithResource("statefulsets")
	daemonsets   = appsv1.SchemeGroupVersion.WithResource("daemonsets")
	replicasets  = appsv1.SchemeGroupVersion.WithResource("replicasets")
	jobs         = batchv1.SchemeGroupVersion.WithResource("jobs")
	pvcs         = corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims")
	services     = corev1.SchemeGroupVersion.WithResource("services")
)

// podTemplate is a pod template labelled app=name.
func podTemplate(name string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/c:1"}}},
	}
}

func deployment(name string, n int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: &n, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(name)},
	}
}

func clients(t *testing.T, srv *kubetest.Server) kubernetes.Interface {
	t.Helper()
	cs, err := srv.Clientset()
	require.NoError(t, err)
	return cs
}

func TestDeploymentBecomesReadyAsTheControllerWritesIt(t *testing.T) {
	srv := kube.Server(t)
	ns := srv.Namespace(t)
	cs := clients(t, srv)
	srv.Controllers(t, kubetest.InNamespaces(ns))
	d, err := cs.AppsV1().Deployments(ns).Create(t.Context(), deployment("web", 3), metav1.CreateOptions{})
	require.NoError(t, err)

	res := untilKstatus(t, srv.Config(), deployments, ns, "web", status.CurrentStatus)
	require.Equal(t, "Deployment is available. Replicas: 3", res.Message)
	got, err := cs.AppsV1().Deployments(ns).Get(t.Context(), "web", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, d.Generation, got.Status.ObservedGeneration)
	require.Equal(t, int32(3), got.Status.Replicas)
	require.Equal(t, int32(3), got.Status.UpdatedReplicas)
	require.Equal(t, int32(3), got.Status.ReadyReplicas)
	require.Equal(t, int32(3), got.Status.AvailableReplicas)
	require.Len(t, got.Status.Conditions, 2)
	require.Equal(t, appsv1.DeploymentAvailable, got.Status.Conditions[0].Type)
	require.Equal(t, "MinimumReplicasAvailable", got.Status.Conditions[0].Reason)
	require.Equal(t, appsv1.DeploymentProgressing, got.Status.Conditions[1].Type)
	require.Equal(t, "NewReplicaSetAvailable", got.Status.Conditions[1].Reason)
	require.Regexp(t, `^ReplicaSet "web-[a-z0-9]+" has successfully progressed\.$`, got.Status.Conditions[1].Message)

	// A new spec is a new generation: ready again only once observed.
	got.Spec.Replicas = new(int32)
	*got.Spec.Replicas = 5
	upd, err := cs.AppsV1().Deployments(ns).Update(t.Context(), got, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.Greater(t, upd.Generation, d.Generation)
	untilKstatus(t, srv.Config(), deployments, ns, "web", status.CurrentStatus)
	got, err = cs.AppsV1().Deployments(ns).Get(t.Context(), "web", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, upd.Generation, got.Status.ObservedGeneration)
	require.Equal(t, int32(5), got.Status.ReadyReplicas)
}

func TestAWithheldDeploymentStaysUnready(t *testing.T) {
	srv := kube.Server(t)
	ns := srv.Namespace(t)
	cs := clients(t, srv)
	srv.Controllers(t, kubetest.InNamespaces(ns), kubetest.Withhold(kubetest.Match("Deployment", ns, "stuck")))
	for _, name := range []string{"stuck", "fine"} {
		_, err := cs.AppsV1().Deployments(ns).Create(t.Context(), deployment(name, 2), metav1.CreateOptions{})
		require.NoError(t, err)
	}
	untilKstatus(t, srv.Config(), deployments, ns, "fine", status.CurrentStatus)
	var got *appsv1.Deployment
	waitFor(t, "the withheld Deployment's status is written", func(ctx context.Context) (bool, string, error) {
		var err error
		got, err = cs.AppsV1().Deployments(ns).Get(ctx, "stuck", metav1.GetOptions{})
		return err == nil && got.Status.ObservedGeneration == got.Generation, "observedGeneration not written", err
	})
	require.Equal(t, int32(2), got.Status.UpdatedReplicas)
	require.Zero(t, got.Status.ReadyReplicas)
	require.Zero(t, got.Status.AvailableReplicas)
	require.Equal(t, int32(2), got.Status.UnavailableReplicas)
	require.Equal(t, "MinimumReplicasUnavailable", got.Status.Conditions[0].Reason)
	require.Equal(t, corev1.ConditionFalse, got.Status.Conditions[0].Status)
	require.Equal(t, "ReplicaSetUpdated", got.Status.Conditions[1].Reason)
	res := kstatusOf(t, srv.Config(), deployments, ns, "stuck")
	require.Equal(t, status.InProgressStatus, res.Status, res.Message)
	require.Equal(t, "Available: 0/2", res.Message)
}

func TestWorkloadsBecomeReady(t *testing.T) {
	srv := kube.Server(t)
	ns := srv.Namespace(t)
	cs := clients(t, srv)
	srv.Controllers(t, kubetest.InNamespaces(ns), kubetest.WithNodes(3))
	ctx := t.Context()
	two := int32(2)
	sel := func(name string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}
	}
	_, err := cs.AppsV1().StatefulSets(ns).Create(ctx, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{Replicas: &two, Selector: sel("db"), Template: podTemplate("db"), ServiceName: "db"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent"},
		Spec: appsv1.DaemonSetSpec{Selector: sel("agent"), Template: podTemplate("agent")}}
	privileged := true
	ds.Spec.Template.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: &privileged}
	_, err = cs.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{})
	require.NoError(t, err, "a privileged DaemonSet, as Cilium's and Longhorn's, is admitted")
	_, err = cs.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "rs"},
		Spec: appsv1.ReplicaSetSpec{Replicas: &two, Selector: sel("rs"), Template: podTemplate("rs")}}, metav1.CreateOptions{})
	require.NoError(t, err)

	untilKstatus(t, srv.Config(), statefulsets, ns, "db", status.CurrentStatus)
	untilKstatus(t, srv.Config(), replicasets, ns, "rs", status.CurrentStatus)
	res := untilKstatus(t, srv.Config(), daemonsets, ns, "agent", status.CurrentStatus)
	require.Equal(t, "All replicas scheduled as expected. Replicas: 3", res.Message, "one pod per node of WithNodes(3)")

	sts, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "db", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, int32(2), sts.Status.ReadyReplicas)
	require.Equal(t, sts.Status.CurrentRevision, sts.Status.UpdateRevision)
	require.Regexp(t, `^db-[a-z0-9]+$`, sts.Status.UpdateRevision)
	got, err := cs.AppsV1().DaemonSets(ns).Get(ctx, "agent", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, int32(3), got.Status.DesiredNumberScheduled)
	require.Equal(t, int32(3), got.Status.NumberReady)
	require.Equal(t, got.Generation, got.Status.ObservedGeneration)
}

func TestJobsComplete(t *testing.T) {
	srv := kube.Server(t)
	ns := srv.Namespace(t)
	cs := clients(t, srv)
	srv.Controllers(t, kubetest.InNamespaces(ns), kubetest.Withhold(kubetest.Match("Job", ns, "never")))
	ctx := t.Context()
	job := func(name string, completions int32, mode batchv1.CompletionMode) *batchv1.Job {
		tmpl := podTemplate(name)
		tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
		return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name,
			// Helm's hook Jobs are plain Jobs with these annotations.
			Annotations: map[string]string{"helm.sh/hook": "pre-install", "helm.sh/hook-delete-policy": "hook-succeeded"}},
			Spec: batchv1.JobSpec{Completions: &completions, Parallelism: &completions, CompletionMode: &mode, Template: tmpl}}
	}
	for _, j := range []*batchv1.Job{job("once", 1, batchv1.NonIndexedCompletion), job("indexed", 3, batchv1.IndexedCompletion), job("never", 1, batchv1.NonIndexedCompletion)} {
		_, err := cs.BatchV1().Jobs(ns).Create(ctx, j, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	res := untilKstatus(t, srv.Config(), jobs, ns, "once", status.CurrentStatus)
	require.Equal(t, "Job Completed. succeeded: 1/1", res.Message)
	untilKstatus(t, srv.Config(), jobs, ns, "indexed", status.CurrentStatus)
	got, err := cs.BatchV1().Jobs(ns).Get(ctx, "indexed", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, int32(3), got.Status.Succeeded)
	require.Equal(t, "0-2", got.Status.CompletedIndexes)
	require.NotNil(t, got.Status.CompletionTime)
	types := []batchv1.JobConditionType{}
	for _, c := range got.Status.Conditions {
		types = append(types, c.Type)
	}
	require.Equal(t, []batchv1.JobConditionType{batchv1.JobSuccessCriteriaMet, batchv1.JobComplete}, types)

	waitFor(t, "the withheld Job starts", func(ctx context.Context) (bool, string, error) {
		j, err := cs.BatchV1().Jobs(ns).Get(ctx, "never", metav1.GetOptions{})
		return err == nil && j.Status.StartTime != nil, "no startTime", err
	})
	never, err := cs.BatchV1().Jobs(ns).Get(ctx, "never", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, int32(1), never.Status.Active)
	require.Empty(t, never.Status.Conditions, "a withheld Job never finishes")
}

func TestPVCBindsAndLoadBalancerGetsItsAddress(t *testing.T) {
	srv := kube.Server(t)
	ns := srv.Namespace(t)
	cs := clients(t, srv)
	srv.Controllers(t, kubetest.InNamespaces(ns))
	ctx := t.Context()
	_, err := cs.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}}}},
		metav1.CreateOptions{})
	require.NoError(t, err)
	untilKstatus(t, srv.Config(), pvcs, ns, "data", status.CurrentStatus)
	pvc, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, corev1.ClaimBound, pvc.Status.Phase)
	require.Equal(t, "10Gi", pvc.Status.Capacity.Storage().String())

	svc := func(name string, annotations map[string]string, ip string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, LoadBalancerIP: ip, Selector: map[string]string{"app": name},
				Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	}
	for _, s := range []*corev1.Service{
		svc("hubble-ui", map[string]string{kubetest.LBIPsAnnotation: "10.10.2.241"}, ""),
		svc("legacy", nil, "10.10.2.242"),
		svc("pooled", nil, ""),
	} {
		_, err := cs.CoreV1().Services(ns).Create(ctx, s, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	for name, ip := range map[string]string{"hubble-ui": "10.10.2.241", "legacy": "10.10.2.242"} {
		waitFor(t, name+" gets "+ip, func(ctx context.Context) (bool, string, error) {
			s, err := cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil || len(s.Status.LoadBalancer.Ingress) == 0 {
				return false, "no ingress", err
			}
			require.Equal(t, ip, s.Status.LoadBalancer.Ingress[0].IP)
			require.Equal(t, corev1.LoadBalancerIPModeVIP, *s.Status.LoadBalancer.Ingress[0].IPMode)
			require.Equal(t, "cilium.io/IPsRequestSatisfied", s.Status.Conditions[0].Type)
			return true, "", nil
		})
	}
	pooled, err := cs.CoreV1().Services(ns).Get(ctx, "pooled", metav1.GetOptions{})
	require.NoError(t, err)
	require.Empty(t, pooled.Status.LoadBalancer.Ingress, "no pool is modelled: an address nobody asked for is not invented")
	require.Equal(t, status.CurrentStatus, kstatusOf(t, srv.Config(), services, ns, "pooled").Status, "kstatus asks a Service only for its cluster IP")
}

// crdFile is the Cilium operator's CRDs for L2 load balancing, as the
// shared chart repository ships them (crds/cilium-l2-lb.yaml).
var crdFile = filepath.Join("testdata", "cilium-l2-lb.yaml")

func TestTheCiliumOperatorCreatesItsCRDsBeforeItIsReady(t *testing.T) {
	srv := kube.Server(t)
	ns := srv.Namespace(t)
	cs := clients(t, srv)
	ext, err := apiextensions.NewForConfig(srv.Config())
	require.NoError(t, err)
	const pool = "ciliumloadbalancerippools.cilium.io"
	_, err = ext.ApiextensionsV1().CustomResourceDefinitions().Get(t.Context(), pool, metav1.GetOptions{})
	require.Error(t, err, "no CRD before the operator runs")
	srv.Controllers(t, kubetest.InNamespaces(ns), kubetest.OnReady(kubetest.Match("Deployment", ns, "cilium-operator"),
		func(ctx context.Context, _ kubetest.Object) error {
			return kubetest.ApplyCRDFile(ctx, srv.Config(), crdFile)
		}))
	_, err = cs.AppsV1().Deployments(ns).Create(t.Context(), deployment("cilium-operator", 1), metav1.CreateOptions{})
	require.NoError(t, err)
	untilKstatus(t, srv.Config(), deployments, ns, "cilium-operator", status.CurrentStatus)

	for _, name := range []string{pool, "ciliuml2announcementpolicies.cilium.io"} {
		crd, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(t.Context(), name, metav1.GetOptions{})
		require.NoError(t, err, "the CRDs exist by the time the operator is ready")
		require.True(t, established(crd), "%s is established", name)
	}
	dyn, err := dynamic.NewForConfig(srv.Config())
	require.NoError(t, err)
	poolGVR := schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumloadbalancerippools"}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cilium.io/v2", "kind": "CiliumLoadBalancerIPPool", "metadata": map[string]any{"name": "t-pool"},
		"spec": map[string]any{"blocks": []any{map[string]any{"start": "10.10.2.240", "stop": "10.10.2.254"}}},
	}}
	_, err = dyn.Resource(poolGVR).Create(t.Context(), obj, metav1.CreateOptions{})
	require.NoError(t, err, "a pool validates against the CRD")
	bad := obj.DeepCopy()
	bad.SetName("t-bad")
	require.NoError(t, unstructured.SetNestedField(bad.Object, "yes", "spec", "disabled"))
	_, err = dyn.Resource(poolGVR).Create(t.Context(), bad, metav1.CreateOptions{})
	require.ErrorContains(t, err, "spec.disabled", "the server validates against the CRD's schema")
}

func TestAFailingHookLeavesTheWorkloadUnready(t *testing.T) {
	srv := kube.Server(t)
	ns := srv.Namespace(t)
	cs := clients(t, srv)
	c, err := kubetest.StartControllers(t.Context(), srv.Config(), kubetest.InNamespaces(ns),
		kubetest.OnReady(kubetest.Match("Deployment", "", "operator"), func(context.Context, kubetest.Object) error {
			return errors.New("crash at start-up")
		}))
	require.NoError(t, err)
	_, err = cs.AppsV1().Deployments(ns).Create(t.Context(), deployment("operator", 1), metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, "the hook's failure is reported", func(context.Context) (bool, string, error) {
		return c.Err() != nil, "no error yet", nil
	})
	require.ErrorContains(t, c.Stop(), "kubetest controllers: Deployment/"+ns+"/operator: ready hook: crash at start-up")
	res := kstatusOf(t, srv.Config(), deployments, ns, "operator")
	require.Equal(t, status.InProgressStatus, res.Status, res.Message)
}

func TestApplyCRDFileRefusesWhatIsNoCRD(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mixed.yaml")
	require.NoError(t, os.WriteFile(file, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"), 0o644))
	// The server is never reached: the refusal comes first.
	err := kubetest.ApplyCRDFile(t.Context(), &rest.Config{Host: "https://127.0.0.1:1"}, file)
	require.EqualError(t, err, "apply CRDs: "+file+": document 1 is a v1 ConfigMap, not an apiextensions.k8s.io/v1 CustomResourceDefinition")
}

func established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established {
			return c.Status == apiextensionsv1.ConditionTrue
		}
	}
	return false
}

// TestFluxObjectsBecomeReady: a GitRepository gets the status
// source-controller writes once it stored an artifact (observed
// generation, Ready=True), which kstatus reads as Current; a withheld one
// is never reconciled.
func TestFluxObjectsBecomeReady(t *testing.T) {
	srv := kube.Server(t)
	ns := srv.Namespace(t)
	require.NoError(t, kubetest.ApplyCRDFile(t.Context(), srv.Config(), filepath.Join("testdata", "flux-gitrepository.yaml")))
	srv.Controllers(t, kubetest.InNamespaces(ns), kubetest.Withhold(kubetest.Match("GitRepository", ns, "held")))
	dyn, err := dynamic.NewForConfig(srv.Config())
	require.NoError(t, err)
	repos := schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	for _, name := range []string{"infra", "held"} {
		_, err := dyn.Resource(repos).Namespace(ns).Create(t.Context(), &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": map[string]any{"name": name},
			"spec": map[string]any{"url": "https://example.invalid/infra.git", "interval": "1m"},
		}}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	var got *unstructured.Unstructured
	waitFor(t, "the GitRepository is reconciled", func(ctx context.Context) (bool, string, error) {
		var err error
		got, err = dyn.Resource(repos).Namespace(ns).Get(ctx, "infra", metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		observed, _, _ := unstructured.NestedInt64(got.Object, "status", "observedGeneration")
		return observed == got.GetGeneration(), fmt.Sprintf("observed generation %d", observed), nil
	})
	require.Equal(t, status.CurrentStatus, kstatusOf(t, srv.Config(), repos, ns, "infra").Status)
	conds, _, err := unstructured.NestedSlice(got.Object, "status", "conditions")
	require.NoError(t, err)
	require.Len(t, conds, 1)
	ready := conds[0].(map[string]any)
	require.Equal(t, "Ready", ready["type"])
	require.Equal(t, "True", ready["status"])
	require.Equal(t, "Succeeded", ready["reason"])
	require.Contains(t, ready["message"], "stored artifact for revision 'main@sha1:")
	held, err := dyn.Resource(repos).Namespace(ns).Get(t.Context(), "held", metav1.GetOptions{})
	require.NoError(t, err)
	require.NotContains(t, held.Object, "status", "a withheld GitRepository is never reconciled")
}
