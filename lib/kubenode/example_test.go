package kubenode_test

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/wdiazux/infra/lib/kubenode"
)

// A node with no pods is cordoned, then its Node object deleted.
func ExampleDrain() {
	ctx := context.Background()
	cs := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "talos-cp-03"}})
	res, err := kubenode.Drain(ctx, cs, "talos-cp-03", kubenode.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("cordoned:", res.Cordoned, "evicted:", len(res.Evicted))
	deleted, err := kubenode.Delete(ctx, cs, "talos-cp-03")
	fmt.Println("deleted:", deleted, err)
	// Output:
	// cordoned: true evicted: 0
	// deleted: true <nil>
}
