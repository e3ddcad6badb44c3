// Command etcd is a thin wrapper that builds the pinned etcd server from its
// Go module, because no release download site is reachable from CI.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
