package nodesim

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/cosi-project/runtime/pkg/resource"
	"github.com/cosi-project/runtime/pkg/safe"
	"github.com/cosi-project/runtime/pkg/state"
	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/resources/k8s"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// writeManifests renders the bootstrap manifests of a control plane's
// config and stores them as its k8s.Manifest resources (namespace
// controlplane), as Talos's manifest controller does: one resource per
// manifest, ID e.g. "11-core-dns", its objects in order; the manifests the
// config no longer renders are removed.
func writeManifests(ctx context.Context, st state.State, cfg config.Provider) error {
	rendered, err := renderManifests(cfg)
	if err != nil {
		return status.Errorf(codes.Internal, "bootstrap manifests: %v", err)
	}
	for _, id := range slices.Sorted(maps.Keys(rendered)) {
		items := make([]k8s.SingleManifest, 0, len(rendered[id]))
		for _, obj := range rendered[id] {
			u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
			if err != nil {
				return status.Errorf(codes.Internal, "manifest %s: %v", id, err)
			}
			items = append(items, k8s.SingleManifest{Object: u})
		}
		if err := safe.StateModify(ctx, st, k8s.NewManifest(k8s.ControlPlaneNamespaceName, id), func(r *k8s.Manifest) error {
			r.TypedSpec().Items = items
			return nil
		}); err != nil {
			return status.Errorf(codes.Internal, "manifest %s: %v", id, err)
		}
	}
	list, err := safe.StateList[*k8s.Manifest](ctx, st, resource.NewMetadata(k8s.ControlPlaneNamespaceName, k8s.ManifestType, "", resource.VersionUndefined))
	if err != nil {
		return status.Errorf(codes.Internal, "list manifests: %v", err)
	}
	for m := range list.All() {
		if _, ok := rendered[m.Metadata().ID()]; !ok {
			if err := st.Destroy(ctx, m.Metadata()); err != nil && !state.IsNotFoundError(err) {
				return status.Errorf(codes.Internal, "remove manifest %s: %v", m.Metadata().ID(), err)
			}
		}
	}
	return nil
}

// renderManifests is what Talos v1.12.7's manifest controller renders for
// the config, by manifest ID, in the parts this repository's configs
// enable: the kubelet bootstrap token, the CSR bindings, the in-cluster
// kubeconfig, the Talos nodes' RBAC and CoreDNS. Flannel, kube-proxy and
// the Talos API service account CRD, which the configs disable, are not
// rendered even when a config enables them.
func renderManifests(cfg config.Provider) (map[string][]runtime.Object, error) {
	c := cfg.Cluster()
	server := c.Endpoint().String()
	if kp := cfg.Machine().Features().KubePrism(); kp.Enabled() {
		server = fmt.Sprintf("https://127.0.0.1:%d", kp.Port())
	}
	kubeconfig, err := clientcmd.Write(clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{"local": {Server: server, CertificateAuthority: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{"service-account": {TokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token"}},
		Contexts:       map[string]*clientcmdapi.Context{"local": {Cluster: "local", AuthInfo: "service-account"}},
		CurrentContext: "local",
	})
	if err != nil {
		return nil, err
	}
	typ := func(kind string, gv fmt.Stringer) metav1.TypeMeta {
		return metav1.TypeMeta{Kind: kind, APIVersion: gv.String()}
	}
	crb := func(name, role string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{TypeMeta: typ("ClusterRoleBinding", rbacv1.SchemeGroupVersion), ObjectMeta: metav1.ObjectMeta{Name: name},
			Subjects: subjects, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: role, APIGroup: rbacv1.GroupName}}
	}
	group := func(name string) rbacv1.Subject {
		return rbacv1.Subject{Kind: "Group", Name: name, APIGroup: rbacv1.GroupName}
	}
	rbacDefaults := func(crb *rbacv1.ClusterRoleBinding) *rbacv1.ClusterRoleBinding {
		crb.Labels = map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}
		crb.Annotations = map[string]string{"rbac.authorization.kubernetes.io/autoupdate": "true"}
		return crb
	}
	out := map[string][]runtime.Object{
		"00-kubelet-bootstrapping-token": {&corev1.Secret{TypeMeta: typ("Secret", corev1.SchemeGroupVersion),
			ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-" + c.Token().ID(), Namespace: "kube-system"},
			Type:       "bootstrap.kubernetes.io/token",
			StringData: map[string]string{"token-id": c.Token().ID(), "token-secret": c.Token().Secret(),
				"usage-bootstrap-authentication": "true", "auth-extra-groups": "system:bootstrappers:nodes"}}},
		"01-csr-node-bootstrap": {crb("system-bootstrap-node-bootstrapper", "system:node-bootstrapper",
			group("system:bootstrappers:nodes"), group("system:nodes"))},
		"01-csr-approver-role-binding": {crb("system-bootstrap-approve-node-client-csr",
			"system:certificates.k8s.io:certificatesigningrequests:nodeclient", group("system:bootstrappers:nodes"))},
		"01-csr-renewal-role-binding": {crb("system-bootstrap-node-renewal",
			"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", group("system:nodes"))},
		"11-kube-config-in-cluster": {&corev1.ConfigMap{TypeMeta: typ("ConfigMap", corev1.SchemeGroupVersion),
			ObjectMeta: metav1.ObjectMeta{Name: "kubeconfig-in-cluster", Namespace: "kube-system"},
			Data:       map[string]string{"kubeconfig": string(kubeconfig)}}},
		"11-talos-node-rbac-template": {
			rbacDefaults(crb("system:talos-nodes", "system:talos-nodes", group("system:nodes"))),
			&rbacv1.ClusterRole{TypeMeta: typ("ClusterRole", rbacv1.SchemeGroupVersion),
				ObjectMeta: metav1.ObjectMeta{Name: "system:talos-nodes", Labels: map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}},
				Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"get", "list", "watch"}}}},
		},
	}
	if !c.CoreDNS().Enabled() {
		return out, nil
	}
	dnsIPs, err := c.Network().DNSServiceIPs()
	if err != nil {
		return nil, fmt.Errorf("DNS service IPs: %w", err)
	}
	svc, err := coreDNSService(dnsIPs)
	if err != nil {
		return nil, err
	}
	out["11-core-dns"] = coreDNS(c.CoreDNS().Image(), c.Network().DNSDomain(), typ, crb, rbacDefaults)
	out["11-core-dns-svc"] = []runtime.Object{svc}
	return out, nil
}

// coreDNS are the objects of Talos's 11-core-dns manifest.
func coreDNS(image, domain string, typ func(string, fmt.Stringer) metav1.TypeMeta,
	crb func(string, string, ...rbacv1.Subject) *rbacv1.ClusterRoleBinding, rbacDefaults func(*rbacv1.ClusterRoleBinding) *rbacv1.ClusterRoleBinding,
) []runtime.Object {
	labels := map[string]string{"k8s-app": "kube-dns"}
	corefile := ".:53 {\n    errors\n    health {\n        lameduck 5s\n    }\n    ready\n    log . {\n        class error\n    }\n    prometheus :9153\n" +
		"    kubernetes " + domain + " in-addr.arpa ip6.arpa {\n        pods insecure\n        fallthrough in-addr.arpa ip6.arpa\n        ttl 30\n    }\n" +
		"    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n" +
		"    cache 30 {\n       disable success " + domain + "\n       disable denial " + domain + "\n    }\n    loop\n    reload\n    loadbalance\n}\n"
	return []runtime.Object{
		&corev1.ServiceAccount{TypeMeta: typ("ServiceAccount", corev1.SchemeGroupVersion), ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: "kube-system"}},
		&rbacv1.ClusterRole{TypeMeta: typ("ClusterRole", rbacv1.SchemeGroupVersion),
			ObjectMeta: metav1.ObjectMeta{Name: "system:coredns", Labels: map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"endpoints", "services", "pods", "namespaces"}, Verbs: []string{"list", "watch"}},
				{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
			}},
		rbacDefaults(crb("system:coredns", "system:coredns", rbacv1.Subject{Kind: "ServiceAccount", Name: "coredns", Namespace: "kube-system"})),
		&corev1.ConfigMap{TypeMeta: typ("ConfigMap", corev1.SchemeGroupVersion), ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: "kube-system"},
			Data: map[string]string{"Corefile": corefile}},
		&appsv1.Deployment{TypeMeta: typ("Deployment", appsv1.SchemeGroupVersion),
			ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}},
			Spec: appsv1.DeploymentSpec{
				Replicas: new(int32(2)),
				Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: new(intstr.FromInt(1))}},
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{
						NodeSelector:       map[string]string{"kubernetes.io/os": "linux"},
						ServiceAccountName: "coredns",
						PriorityClassName:  "system-cluster-critical",
						Tolerations: []corev1.Toleration{
							{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
							{Key: "node.cloudprovider.kubernetes.io/uninitialized", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
						},
						Containers: []corev1.Container{{
							Name: "coredns", Image: image, ImagePullPolicy: corev1.PullIfNotPresent,
							Args:         []string{"-conf", "/etc/coredns/Corefile"},
							VolumeMounts: []corev1.VolumeMount{{Name: "config-volume", MountPath: "/etc/coredns", ReadOnly: true}},
							Ports: []corev1.ContainerPort{
								{Name: "dns", Protocol: corev1.ProtocolUDP, ContainerPort: 53},
								{Name: "dns-tcp", Protocol: corev1.ProtocolTCP, ContainerPort: 53},
								{Name: "metrics", Protocol: corev1.ProtocolTCP, ContainerPort: 9153},
							},
						}},
						DNSPolicy: corev1.DNSDefault,
						Volumes: []corev1.Volume{{Name: "config-volume", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: "coredns"}, Items: []corev1.KeyToPath{{Key: "Corefile", Path: "Corefile"}}}}}},
					},
				},
			},
		},
	}
}

// coreDNSService is Talos's kube-dns Service at the cluster's DNS
// service IPs (the tenth address of each service CIDR).
func coreDNSService(ips []netip.Addr) (*corev1.Service, error) {
	if len(ips) == 0 {
		return nil, fmt.Errorf("no DNS service IP in the service CIDRs")
	}
	svc := &corev1.Service{TypeMeta: metav1.TypeMeta{Kind: "Service", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: "kube-system",
			Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9153"},
			Labels:      map[string]string{"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}},
		Spec: corev1.ServiceSpec{
			Selector:  map[string]string{"k8s-app": "kube-dns"},
			ClusterIP: ips[0].String(),
			Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt(53)},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt(53)},
				{Name: "metrics", Port: 9153, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt(9153)},
			},
		}}
	for _, ip := range ips {
		svc.Spec.ClusterIPs = append(svc.Spec.ClusterIPs, ip.String())
		fam := corev1.IPv4Protocol
		if ip.Is6() {
			fam = corev1.IPv6Protocol
		}
		svc.Spec.IPFamilies = append(svc.Spec.IPFamilies, fam)
	}
	policy := corev1.IPFamilyPolicySingleStack
	if len(ips) > 1 {
		policy = corev1.IPFamilyPolicyRequireDualStack
	}
	svc.Spec.IPFamilyPolicy = &policy
	return svc, nil
}
