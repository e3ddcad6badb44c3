// Package localrun holds the small pieces that run the operator's stack on
// one machine: child processes in their own process group whose output is
// prefixed line by line and can be waited on, free and busy ports, and where
// the pinned control-plane binaries live. hack/run-local and the end-to-end
// tests share them, so both start and stop processes the same way.
package localrun
