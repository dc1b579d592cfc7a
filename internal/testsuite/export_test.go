package testsuite

// GoToolsFrom is GoTools with the inventory's tools: given, for the tests.
var GoToolsFrom = goTools
