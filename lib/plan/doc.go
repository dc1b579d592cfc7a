// Package plan is the shape every importer and deployer of this repository
// shares: it inspects what exists (reading only), decides an Action, and
// lists its work once, as a Plan of Steps. Each Step names itself, lists the
// Calls it will send that can change something (method, API path, key
// parameters) and carries the function that sends them. The dry run, the
// progress and the summary all come from that one list, so a dry run cannot
// drift from what a run does: Plan.Calls is the dry run, Plan.Execute is the
// run, and the Calls Execute returns are what the run sent.
//
// A new importer or deployer (a Terraform apply, a Helm release, a Packer
// build) uses it in four moves:
//
//  1. Inspect, reading only, and decide the Action: Unchanged, Create,
//     Repair (its own object, left half-made by an earlier run) or Replace.
//     Refuse there, with a typed error, what it may not touch.
//  2. Build the Plan: one Step per unit of work, in the order the run does
//     it. A Step's Calls are exactly the requests its Run sends when it
//     succeeds, resolved from what step 1 saw (a call that will not be
//     needed is left out, not listed "if needed"). Give Undo to the step
//     from which a failure leaves something half-made: when that step or a
//     later one fails, Execute runs it, on a context that is not cancelled.
//  3. With a dry run, report Plan.Calls and stop. Otherwise call
//     Plan.Execute with the caller's Events; its Calls are what the run sent.
//     The caller (the command layer) renders the Events and the summary:
//     libraries never print.
//  4. Prove it against the simulator: for each starting state (fresh, each
//     step a killed run stopped after, each Action), the dry run's Calls
//     equal the mutating requests the simulator records during the real
//     run, in order. lib/images' TestTalosImportDryRunListsWhatTheRunSends
//     is the model.
//
// Options.AfterStep lets a test stop a run after any step that sent calls,
// without Undo, as a killed process would; the next run must recognise
// what was left and finish the job.
package plan
