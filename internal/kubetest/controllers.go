package kubetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Object names one object the controllers act on.
type Object struct {
	// Kind is the object's kind: Deployment, StatefulSet, DaemonSet,
	// ReplicaSet, Job, PersistentVolumeClaim or Service.
	Kind string
	// Namespace and Name name it.
	Namespace, Name string
}

// String is kind/namespace/name.
func (o Object) String() string { return o.Kind + "/" + o.Namespace + "/" + o.Name }

// Match returns a predicate that holds for the objects of kind in namespace
// named name; an empty argument matches anything.
func Match(kind, namespace, name string) func(Object) bool {
	return func(o Object) bool {
		return (kind == "" || o.Kind == kind) && (namespace == "" || o.Namespace == namespace) && (name == "" || o.Name == name)
	}
}

// ControllerOption configures StartControllers.
type ControllerOption func(*controllerOptions)

type controllerOptions struct {
	nodes      int
	withhold   []func(Object) bool
	hooks      []readyHook
	namespaces []string
	log        *slog.Logger
}

type readyHook struct {
	match func(Object) bool
	run   func(ctx context.Context, obj Object) error
}

// WithNodes sets how many nodes the cluster plays (default 1): every
// DaemonSet is scheduled on each.
func WithNodes(n int) ControllerOption { return func(o *controllerOptions) { o.nodes = n } }

// Withhold keeps the objects pred holds for from becoming ready, as if their
// pods never passed their readiness probes (a Job that never finishes, a
// PVC that never binds, a Service that gets no address); given more than
// once, an object matching any is withheld.
func Withhold(pred func(Object) bool) ControllerOption {
	return func(o *controllerOptions) { o.withhold = append(o.withhold, pred) }
}

// OnReady runs hook once per object (by UID) pred holds for, when it would
// become ready, before its ready status is written: an operator's start-up
// work (e.g. creating its CRDs) is done by the time its readiness probe
// passes. A hook that fails leaves the object unready; its error is
// reported by Err and Stop.
func OnReady(pred func(Object) bool, hook func(ctx context.Context, obj Object) error) ControllerOption {
	return func(o *controllerOptions) { o.hooks = append(o.hooks, readyHook{pred, hook}) }
}

// InNamespaces limits the controllers to these namespaces (default: all),
// so tests sharing one server can each run their own.
func InNamespaces(namespaces ...string) ControllerOption {
	return func(o *controllerOptions) { o.namespaces = append(o.namespaces, namespaces...) }
}

// WithControllerLogger sets the logger that reports each status written
// (default: discard).
func WithControllerLogger(l *slog.Logger) ControllerOption {
	return func(o *controllerOptions) { o.log = l }
}

// Controllers play the part of kube-controller-manager, the kubelets and
// Cilium's LB-IPAM for a test API server: they write the status the real
// controllers write once every pod is running and ready (see the package
// documentation for what is modelled and what is not).
type Controllers struct {
	opts    controllerOptions
	cs      kubernetes.Interface
	factory informers.SharedInformerFactory
	queue   workqueue.TypedRateLimitingInterface[Object]
	cancel  context.CancelFunc
	workers sync.WaitGroup
	listers map[string]cache.Indexer

	mu       sync.Mutex
	errs     []error
	hooked   map[types.UID]error
	stopOnce sync.Once
}

// kinds are the kinds the controllers act on, with their informers.
var kinds = map[string]func(informers.SharedInformerFactory) cache.SharedIndexInformer{
	"Deployment": func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Apps().V1().Deployments().Informer()
	},
	"StatefulSet": func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Apps().V1().StatefulSets().Informer()
	},
	"DaemonSet": func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Apps().V1().DaemonSets().Informer()
	},
	"ReplicaSet": func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Apps().V1().ReplicaSets().Informer()
	},
	"Job": func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Batch().V1().Jobs().Informer()
	},
	"PersistentVolumeClaim": func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().PersistentVolumeClaims().Informer()
	},
	"Service": func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Core().V1().Services().Informer()
	},
}

// StartControllers watches the server cfg points at and writes the status
// of the workloads, Jobs, PVCs and LoadBalancer Services it holds, until
// Stop. It returns once its watches have listed what the server holds.
func StartControllers(ctx context.Context, cfg *rest.Config, opts ...ControllerOption) (*Controllers, error) {
	o := controllerOptions{nodes: 1, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	if o.nodes < 1 {
		return nil, fmt.Errorf("kubetest controllers: WithNodes(%d): a cluster has at least one node", o.nodes)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubetest controllers: client for %s: %w", cfg.Host, err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c := &Controllers{
		opts:    o,
		cs:      cs,
		factory: informers.NewSharedInformerFactory(cs, 0),
		queue:   workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[Object]()),
		cancel:  cancel,
		listers: map[string]cache.Indexer{},
		hooked:  map[types.UID]error{},
	}
	for kind, informer := range kinds {
		inf := informer(c.factory)
		c.listers[kind] = inf.GetIndexer()
		enqueue := func(obj any) {
			m, err := metaOf(obj)
			if err != nil {
				return
			}
			key := Object{Kind: kind, Namespace: m.GetNamespace(), Name: m.GetName()}
			if len(o.namespaces) == 0 || slices.Contains(o.namespaces, key.Namespace) {
				c.queue.Add(key)
			}
		}
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    enqueue,
			UpdateFunc: func(_, obj any) { enqueue(obj) },
		}); err != nil {
			cancel()
			return nil, fmt.Errorf("kubetest controllers: watch %ss: %w", kind, err)
		}
	}
	c.factory.Start(runCtx.Done())
	for typ, ok := range c.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			c.stop()
			return nil, fmt.Errorf("kubetest controllers: list %v from %s: %w", typ, cfg.Host, context.Cause(ctx))
		}
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("kubetest controllers: dynamic client for %s: %w", cfg.Host, err)
	}
	c.workers.Go(func() { c.fluxLoop(runCtx, dyn, 200*time.Millisecond) })
	const workers = 4
	for range workers {
		c.workers.Go(func() {
			for c.next(runCtx) {
			}
		})
	}
	return c, nil
}

// Controllers starts controllers on the server for the test and stops them
// when it ends; an error they met (a status the server refused, a hook
// that failed) fails the test then.
func (s *Server) Controllers(t testing.TB, opts ...ControllerOption) *Controllers {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, err := StartControllers(ctx, s.Config(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("%v", err)
		}
	})
	return c
}

// Err returns the errors the controllers met so far: statuses the server
// refused and hooks that failed, each naming its object.
func (c *Controllers) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(c.errs...)
}

// Stop ends the controllers and returns Err. It is safe to call more than
// once.
func (c *Controllers) Stop() error {
	c.stop()
	return c.Err()
}

func (c *Controllers) stop() {
	c.stopOnce.Do(func() {
		c.cancel()
		c.queue.ShutDown()
		c.workers.Wait()
		c.factory.Shutdown()
	})
}

// report records an error the controllers met.
func (c *Controllers) report(obj Object, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, fmt.Errorf("kubetest controllers: %s: %w", obj, err))
}

// maxRetries bounds how often a status write that fails is retried before
// it is reported.
const maxRetries = 8

// next processes one object from the queue; false when the queue is shut.
func (c *Controllers) next(ctx context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)
	err := c.sync(ctx, key)
	switch {
	case err == nil, ctx.Err() != nil:
		c.queue.Forget(key)
	case apierrors.IsConflict(err) || apierrors.IsNotFound(err):
		c.queue.AddRateLimited(key) // a newer version is on its way
	case c.queue.NumRequeues(key) < maxRetries && !apierrors.IsInvalid(err):
		c.queue.AddRateLimited(key)
	default:
		c.report(key, err)
		c.queue.Forget(key)
	}
	return true
}

// sync writes the status the object's controller would.
func (c *Controllers) sync(ctx context.Context, key Object) error {
	item, exists, err := c.listers[key.Kind].GetByKey(key.Namespace + "/" + key.Name)
	if err != nil || !exists {
		return err
	}
	m, err := metaOf(item)
	if err != nil {
		return err
	}
	if m.GetDeletionTimestamp() != nil {
		return nil
	}
	ready := !slices.ContainsFunc(c.opts.withhold, func(p func(Object) bool) bool { return p(key) })
	if ready {
		ready = c.runHooks(ctx, key, m.GetUID())
	}
	now := metav1.Now()
	var written bool
	switch obj := item.(type) {
	case *appsv1.Deployment:
		written, err = c.writeDeployment(ctx, obj.DeepCopy(), ready, now)
	case *appsv1.StatefulSet:
		written, err = c.writeStatefulSet(ctx, obj.DeepCopy(), ready)
	case *appsv1.DaemonSet:
		written, err = c.writeDaemonSet(ctx, obj.DeepCopy(), ready)
	case *appsv1.ReplicaSet:
		written, err = c.writeReplicaSet(ctx, obj.DeepCopy(), ready)
	case *batchv1.Job:
		written, err = c.writeJob(ctx, obj.DeepCopy(), ready, now)
	case *corev1.PersistentVolumeClaim:
		written, err = c.writePVC(ctx, obj.DeepCopy(), ready)
	case *corev1.Service:
		written, err = c.writeService(ctx, obj.DeepCopy(), ready, now)
	default:
		return fmt.Errorf("no controller for %T", item)
	}
	if written {
		c.opts.log.Debug("status written", "object", key.String(), "ready", ready)
	}
	return err
}

// runHooks runs the OnReady hooks matching the object, once per UID, and
// says whether the object may become ready.
func (c *Controllers) runHooks(ctx context.Context, key Object, uid types.UID) bool {
	var hooks []readyHook
	for _, h := range c.opts.hooks {
		if h.match(key) {
			hooks = append(hooks, h)
		}
	}
	if len(hooks) == 0 {
		return true
	}
	c.mu.Lock()
	herr, done := c.hooked[uid]
	c.mu.Unlock()
	if done {
		return herr == nil
	}
	var errs []error
	for _, h := range hooks {
		if err := h.run(ctx, key); err != nil {
			errs = append(errs, err)
		}
	}
	herr = errors.Join(errs...)
	c.mu.Lock()
	c.hooked[uid] = herr
	c.mu.Unlock()
	if herr != nil {
		c.report(key, fmt.Errorf("ready hook: %w", herr))
		return false
	}
	return true
}

// replicas is spec.replicas, 1 when unset, as the controllers default it.
func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// templateHash is a short hash of a pod template, like the
// pod-template-hash the controllers name ReplicaSets and revisions with.
func templateHash(template any) string {
	h := fnv.New32a()
	b, _ := json.Marshal(template)
	_, _ = h.Write(b)
	return utilrand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// keepTimes carries the condition times of old into conditions whose
// status, reason and message did not change, as the controllers do.
func keepTimes[C any](old, cur []C, same func(a, b *C) bool, copyTimes func(from, to *C)) {
	for i := range cur {
		for j := range old {
			if same(&old[j], &cur[i]) {
				copyTimes(&old[j], &cur[i])
			}
		}
	}
}

func (c *Controllers) writeDeployment(ctx context.Context, d *appsv1.Deployment, ready bool, now metav1.Time) (bool, error) {
	want := replicas(d.Spec.Replicas)
	rs := d.Name + "-" + templateHash(d.Spec.Template)
	st := appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: want, UpdatedReplicas: want}
	if ready {
		st.ReadyReplicas, st.AvailableReplicas = want, want
	} else {
		st.UnavailableReplicas = want
	}
	// The Available condition holds when no more pods are unavailable than
	// the rolling update allows (deploymentutil.MaxUnavailable).
	maxUnavailable := int32(0)
	if d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType && d.Spec.Strategy.RollingUpdate != nil && want > 0 {
		mu := intstr.FromString("25%")
		if d.Spec.Strategy.RollingUpdate.MaxUnavailable != nil {
			mu = *d.Spec.Strategy.RollingUpdate.MaxUnavailable
		}
		v, err := intstr.GetScaledValueFromIntOrPercent(&mu, int(want), false)
		if err != nil {
			return false, err
		}
		maxUnavailable = min(int32(v), want)
	}
	available := appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue,
		Reason: "MinimumReplicasAvailable", Message: "Deployment has minimum availability.", LastUpdateTime: now, LastTransitionTime: now}
	if st.AvailableReplicas < want-maxUnavailable {
		available.Status, available.Reason, available.Message = corev1.ConditionFalse, "MinimumReplicasUnavailable", "Deployment does not have minimum availability."
	}
	progressing := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue,
		Reason: "NewReplicaSetAvailable", Message: fmt.Sprintf("ReplicaSet %q has successfully progressed.", rs), LastUpdateTime: now, LastTransitionTime: now}
	if !ready {
		progressing.Reason, progressing.Message = "ReplicaSetUpdated", fmt.Sprintf("ReplicaSet %q is progressing.", rs)
	}
	st.Conditions = []appsv1.DeploymentCondition{available, progressing}
	keepTimes(d.Status.Conditions, st.Conditions,
		func(a, b *appsv1.DeploymentCondition) bool {
			return a.Type == b.Type && a.Status == b.Status && a.Reason == b.Reason && a.Message == b.Message
		},
		func(from, to *appsv1.DeploymentCondition) {
			to.LastUpdateTime, to.LastTransitionTime = from.LastUpdateTime, from.LastTransitionTime
		})
	if equality.Semantic.DeepEqual(d.Status, st) {
		return false, nil
	}
	d.Status = st
	_, err := c.cs.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	return err == nil, err
}

func (c *Controllers) writeStatefulSet(ctx context.Context, s *appsv1.StatefulSet, ready bool) (bool, error) {
	want := replicas(s.Spec.Replicas)
	rev := s.Name + "-" + templateHash(s.Spec.Template)
	st := appsv1.StatefulSetStatus{ObservedGeneration: s.Generation, Replicas: want, CurrentReplicas: want, UpdatedReplicas: want,
		CurrentRevision: rev, UpdateRevision: rev, CollisionCount: new(int32)}
	if ready {
		st.ReadyReplicas, st.AvailableReplicas = want, want
	}
	if equality.Semantic.DeepEqual(s.Status, st) {
		return false, nil
	}
	s.Status = st
	_, err := c.cs.AppsV1().StatefulSets(s.Namespace).UpdateStatus(ctx, s, metav1.UpdateOptions{})
	return err == nil, err
}

func (c *Controllers) writeDaemonSet(ctx context.Context, ds *appsv1.DaemonSet, ready bool) (bool, error) {
	n := int32(c.opts.nodes)
	st := appsv1.DaemonSetStatus{ObservedGeneration: ds.Generation, DesiredNumberScheduled: n, CurrentNumberScheduled: n,
		UpdatedNumberScheduled: n, CollisionCount: ds.Status.CollisionCount}
	if ready {
		st.NumberReady, st.NumberAvailable = n, n
	} else {
		st.NumberUnavailable = n
	}
	if equality.Semantic.DeepEqual(ds.Status, st) {
		return false, nil
	}
	ds.Status = st
	_, err := c.cs.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, ds, metav1.UpdateOptions{})
	return err == nil, err
}

func (c *Controllers) writeReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet, ready bool) (bool, error) {
	want := replicas(rs.Spec.Replicas)
	st := appsv1.ReplicaSetStatus{ObservedGeneration: rs.Generation, Replicas: want, FullyLabeledReplicas: want}
	if ready {
		st.ReadyReplicas, st.AvailableReplicas = want, want
	}
	if equality.Semantic.DeepEqual(rs.Status, st) {
		return false, nil
	}
	rs.Status = st
	_, err := c.cs.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(ctx, rs, metav1.UpdateOptions{})
	return err == nil, err
}

func (c *Controllers) writeJob(ctx context.Context, j *batchv1.Job, ready bool, now metav1.Time) (bool, error) {
	for _, cond := range j.Status.Conditions {
		if (cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed) && cond.Status == corev1.ConditionTrue {
			return false, nil // finished: the controller no longer changes it
		}
	}
	if j.Spec.Suspend != nil && *j.Spec.Suspend {
		return false, nil
	}
	parallelism := int32(1)
	if j.Spec.Parallelism != nil {
		parallelism = *j.Spec.Parallelism
	}
	completions := int32(1)
	if j.Spec.Completions != nil {
		completions = *j.Spec.Completions
	}
	st := j.Status.DeepCopy()
	if st.StartTime == nil {
		st.StartTime = &now
	}
	zero := int32(0)
	st.Ready, st.Terminating = &zero, &zero
	if st.UncountedTerminatedPods == nil {
		st.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	if ready {
		st.Active, st.Succeeded, st.CompletionTime = 0, completions, &now
		if j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion {
			st.CompletedIndexes = "0"
			if completions > 1 {
				st.CompletedIndexes = fmt.Sprintf("0-%d", completions-1)
			}
		}
		const msg = "Reached expected number of succeeded pods"
		st.Conditions = append(st.Conditions,
			batchv1.JobCondition{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonCompletionsReached,
				Message: msg, LastProbeTime: now, LastTransitionTime: now},
			batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonCompletionsReached,
				Message: msg, LastProbeTime: now, LastTransitionTime: now})
	} else {
		st.Active = min(parallelism, completions)
	}
	if equality.Semantic.DeepEqual(j.Status, *st) {
		return false, nil
	}
	j.Status = *st
	_, err := c.cs.BatchV1().Jobs(j.Namespace).UpdateStatus(ctx, j, metav1.UpdateOptions{})
	return err == nil, err
}

func (c *Controllers) writePVC(ctx context.Context, pvc *corev1.PersistentVolumeClaim, ready bool) (bool, error) {
	if pvc.Status.Phase == corev1.ClaimBound {
		return false, nil
	}
	st := corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
	if ready {
		st.Phase = corev1.ClaimBound
		st.AccessModes = pvc.Spec.AccessModes
		if size, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
			st.Capacity = corev1.ResourceList{corev1.ResourceStorage: size}
		}
	}
	if equality.Semantic.DeepEqual(pvc.Status, st) {
		return false, nil
	}
	pvc.Status = st
	_, err := c.cs.CoreV1().PersistentVolumeClaims(pvc.Namespace).UpdateStatus(ctx, pvc, metav1.UpdateOptions{})
	return err == nil, err
}

// LBIPsAnnotation is the annotation with which a Service asks Cilium's
// LB-IPAM for its addresses (comma-separated).
const LBIPsAnnotation = "lbipam.cilium.io/ips"

// ciliumSatisfied is the condition Cilium's LB-IPAM sets on a Service
// whose request it satisfied.
const ciliumSatisfied = "cilium.io/IPsRequestSatisfied"

func (c *Controllers) writeService(ctx context.Context, svc *corev1.Service, ready bool, now metav1.Time) (bool, error) {
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || !ready {
		return false, nil
	}
	if cls := svc.Spec.LoadBalancerClass; cls != nil && !strings.HasPrefix(*cls, "io.cilium/") {
		return false, nil // another load balancer's Service
	}
	var ips []string
	if a := svc.Annotations[LBIPsAnnotation]; a != "" {
		for ip := range strings.SplitSeq(a, ",") {
			if ip = strings.TrimSpace(ip); ip != "" {
				ips = append(ips, ip)
			}
		}
	} else if svc.Spec.LoadBalancerIP != "" {
		ips = []string{svc.Spec.LoadBalancerIP}
	}
	if len(ips) == 0 {
		return false, nil // Cilium would take one from a pool: not modelled
	}
	vip := corev1.LoadBalancerIPModeVIP
	st := svc.Status.DeepCopy()
	st.LoadBalancer.Ingress = nil
	for _, ip := range ips {
		st.LoadBalancer.Ingress = append(st.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip, IPMode: &vip})
	}
	cond := metav1.Condition{Type: ciliumSatisfied, Status: metav1.ConditionTrue, Reason: "satisfied", LastTransitionTime: now}
	if i := slices.IndexFunc(st.Conditions, func(c metav1.Condition) bool { return c.Type == ciliumSatisfied }); i >= 0 {
		if st.Conditions[i].Status == cond.Status {
			cond.LastTransitionTime = st.Conditions[i].LastTransitionTime
		}
		st.Conditions[i] = cond
	} else {
		st.Conditions = append(st.Conditions, cond)
	}
	if equality.Semantic.DeepEqual(svc.Status, *st) {
		return false, nil
	}
	svc.Status = *st
	_, err := c.cs.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, svc, metav1.UpdateOptions{})
	return err == nil, err
}

// metaOf returns an informer item's object metadata.
func metaOf(obj any) (metav1.Object, error) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("not an object: %T", obj)
	}
	return m, nil
}
