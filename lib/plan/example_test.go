package plan_test

import (
	"context"
	"fmt"

	"github.com/wdiazux/infra/lib/plan"
)

// A deployer lists its steps once: the dry run prints their calls, the run
// executes them and reports the calls it sent.
func ExamplePlan() {
	p := plan.Plan{Action: plan.Create, Steps: []plan.Step{
		{
			Name:  "create the release",
			Calls: []plan.Call{{Method: "POST", Path: "/releases", Params: []plan.Param{{Key: "name", Value: "cilium"}}}},
			Run: func(ctx context.Context, progress plan.Progress) (string, error) {
				return "release cilium created", nil
			},
		},
		{
			Name: "wait until it is ready",
			Run: func(ctx context.Context, progress plan.Progress) (string, error) {
				return "cilium is ready", nil
			},
		},
	}}

	fmt.Println("dry run,", p.Action)
	for _, c := range p.Calls() {
		fmt.Println("  " + c.String())
	}

	sent, err := p.Execute(context.Background(), plan.Options{Events: func(ev plan.Event) {
		if ev.Done {
			fmt.Println("done:", ev.Message)
		}
	}})
	fmt.Println(len(sent), "call(s) sent, error:", err)
	// Output:
	// dry run, create
	//   POST /releases name=cilium
	// done: release cilium created
	// done: cilium is ready
	// 1 call(s) sent, error: <nil>
}
