// Command cicd-control-plane is one binary that runs as etcd, kube-apiserver or
// kube-controller-manager, each through its upstream command and flags, and makes the
// certificates and keys they need (pki). The Rust launcher
// (cicd-cluster) starts it three times as three processes.
//
// Every process watches its standard input: when the launcher goes away (exit, crash or
// SIGKILL) the pipe closes and the process ends itself, so no control plane outlives the test
// that started it.
package main

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	kas "k8s.io/kubernetes/cmd/kube-apiserver/app"
	kcm "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

const usage = "usage: cicd-control-plane etcd|kube-apiserver|kube-controller-manager [FLAGS...] | pki DIR"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	part, args := os.Args[1], os.Args[2:]
	if os.Getenv("CICD_EXIT_ON_STDIN_EOF") == "1" {
		go exitWhenStdinCloses()
	}
	switch part {
	case "etcd":
		// etcdmain.Main reads os.Args itself, with the program name first.
		etcdmain.Main(append([]string{"etcd"}, args...))
	case "kube-apiserver":
		command := kas.NewAPIServerCommand()
		command.SetArgs(args)
		os.Exit(cli.Run(command))
	case "kube-controller-manager":
		command := kcm.NewControllerManagerCommand()
		command.SetArgs(args)
		os.Exit(cli.Run(command))
	case "pki":
		if len(args) != 1 {
			fmt.Fprintln(os.Stderr, usage)
			os.Exit(2)
		}
		if err := writePKI(args[0]); err != nil {
			fmt.Fprintf(os.Stderr, "cicd-control-plane pki: %v\n", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown part %q\n%s\n", part, usage)
		os.Exit(2)
	}
}

// exitWhenStdinCloses ends the process once its standard input reaches end of file. SIGTERM
// first gives the upstream command its own orderly shutdown; the hard exit follows if that
// does not finish in time.
func exitWhenStdinCloses() {
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	time.Sleep(10 * time.Second)
	os.Exit(1)
}
