# sdrs-operator Makefile (kubebuilder v4 target names, plus run-local, test-e2e,
# verify-gen and bench). Every tool is pinned and installed into bin/.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

LOCALBIN ?= $(shell pwd)/bin
GO ?= go

CONTROLLER_TOOLS_VERSION ?= v0.23.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)

GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)

# The pinned control plane (etcd + kube-apiserver) is built from Go modules by
# hack/build-control-plane.sh into a per-user cache and linked here.
K8S_VERSION := $(shell sed -nE 's#^[[:space:]]*(require[[:space:]]+)?k8s.io/kubernetes[[:space:]]+(v[^[:space:]]+).*#\2#p' hack/controlplane/kube-apiserver/go.mod | head -1)
KUBEBUILDER_ASSETS ?= $(LOCALBIN)/k8s/$(K8S_VERSION)
export KUBEBUILDER_ASSETS

# The tests run on 2 cores in CI; keep the whole run well under 30 minutes.
TEST_TIMEOUT ?= 25m

# Binaries are built as the Dockerfile builds the manager (static, trimmed),
# so the tests run the binary the image ships and share one build cache.
GO_BUILD ?= CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w"

# Flags for hack/run-local, e.g. make run-local RUN_LOCAL_ARGS="--sdrs-port=0 --ecs-port=0".
RUN_LOCAL_ARGS ?=

# The image `make docker-build` builds; config/manager maps `controller` to it.
IMG ?= sdrs-operator:latest
CONTAINER_TOOL ?= docker

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and RBAC from kubebuilder markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: controller-gen ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: verify-gen
verify-gen: manifests generate ## Fail when committed generated files differ from what the markers produce.
	@if ! git diff --quiet --exit-code -- api config; then \
		echo "generated files are stale: run 'make generate manifests' and commit the result" >&2; \
		git --no-pager diff --stat -- api config >&2; exit 1; fi

.PHONY: fmt
fmt: ## Run go fmt.
	$(GO) fmt ./...

.PHONY: vet
vet: ## Run go vet.
	$(GO) vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint (.golangci.yml: vet, staticcheck, errcheck, ... and the package boundaries as depguard rules).
	$(GOLANGCI_LINT) run ./...

.PHONY: control-plane
control-plane: ## Build (or reuse) the pinned etcd and kube-apiserver into bin/k8s.
	@hack/build-control-plane.sh "$(KUBEBUILDER_ASSETS)" >/dev/null

.PHONY: test
test: verify-gen vet lint chart-check dashboard-check control-plane build ## Run every test: unit, envtest, emulator and end-to-end.
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed on:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) test -race -timeout $(TEST_TIMEOUT) -count=1 ./...
	$(GO) test -tags e2e -timeout $(TEST_TIMEOUT) -count=1 ./test/e2e/...

.PHONY: test-unit
test-unit: ## Run the tests that need no control plane.
	$(GO) test -short -count=1 ./...

.PHONY: test-e2e
test-e2e: control-plane build ## Run only the end-to-end suite (real binaries).
	$(GO) test -tags e2e -timeout $(TEST_TIMEOUT) -count=1 -v ./test/e2e/...

##@ Build

.PHONY: build
build: ## Build bin/manager, bin/sdrs-emulator and bin/kubectl-sdrs.
	$(GO_BUILD) -o $(LOCALBIN)/manager .
	$(GO_BUILD) -o $(LOCALBIN)/sdrs-emulator ./cmd/sdrs-emulator
	$(GO_BUILD) -o $(LOCALBIN)/kubectl-sdrs ./cmd/kubectl-sdrs

.PHONY: run-local
run-local: control-plane build ## Run the operator against an embedded control plane and the SDRS emulator.
	hack/run-local.sh $(RUN_LOCAL_ARGS)

.PHONY: docker-build
docker-build: ## Build the manager image with $(CONTAINER_TOOL) (needs a container engine; the tests do not).
	$(CONTAINER_TOOL) build -t $(IMG) .

.PHONY: run
run: manifests generate ## Run the manager against the cluster in your current kubeconfig.
	$(GO) run . --leader-elect=false

##@ Deployment

# These use kubectl's built-in kustomize and the cluster of the current
# kubeconfig (the run-local one too); nothing else is needed and no tracked
# file is edited: the image is set on the rendered manifests.

.PHONY: install
install: ## Install the CRDs into the cluster of the current kubeconfig.
	kubectl apply --server-side -k config/crd

.PHONY: uninstall
uninstall: ## Remove the CRDs (and with them every ProtectionGroup and ProviderConfig) from the cluster.
	kubectl delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: ## Deploy the operator (config/default) with image $(IMG) into the cluster of the current kubeconfig.
	kubectl kustomize config/default | sed 's#image: sdrs-operator:latest#image: $(IMG)#' | kubectl apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove what deploy created (the CRDs too, and with them every ProtectionGroup).
	kubectl kustomize config/default | kubectl delete --ignore-not-found -f -

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen into bin/.
$(CONTROLLER_GEN):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(LOCALBIN)/controller-gen $(CONTROLLER_GEN)

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Install golangci-lint into bin/.
$(GOLANGCI_LINT):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(LOCALBIN)/golangci-lint $(GOLANGCI_LINT)

##@ Benchmark

# Flags for test/bench, e.g. make bench BENCH_ARGS="-sizes 100,1000 -serial-groups 0".
BENCH_ARGS ?=

.PHONY: bench
bench: control-plane build ## Fleet benchmark (N = 100, 1000, 5000 groups flipped at once, and the extra N = 1000 runs); writes docs/performance.md. About an hour.
	$(GO) run ./test/bench $(BENCH_ARGS)

.PHONY: chart-check
chart-check: ## Check charts/sdrs-operator against config/ and render it with Helm (hack/chart, its own module).
	cd hack/chart && $(GO) run . verify-chart
	cd hack/chart && $(GO) vet ./... && $(GO) test -count=1 ./...

.PHONY: dashboard
dashboard: ## Regenerate the Grafana fleet dashboard in config/grafana (hack/dashboard, its own module) and the chart's copy.
	cd hack/dashboard && $(GO) run . generate
	cd hack/chart && $(GO) run . generate

.PHONY: dashboard-check
dashboard-check: ## Check config/grafana against hack/dashboard and every panel's PromQL against internal/metrics.
	cd hack/dashboard && $(GO) run . verify
	cd hack/dashboard && $(GO) vet ./... && $(GO) test -count=1 ./...
