# tflint with its bundled terraform ruleset, for the fixture.
plugin "terraform" {
  enabled = true
  preset  = "all"
}
