# Builds the manager image: a static binary on distroless, running as non-root.
#   docker build -t sdrs-operator:latest .
# config/manager pins the image name `controller` to sdrs-operator:latest.
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH

WORKDIR /workspace
# Download modules in their own layer, so a source change does not refetch them.
COPY go.mod go.sum ./
RUN go mod download

COPY main.go main.go
COPY api/ api/
COPY controllers/ controllers/
COPY internal/ internal/

# CGO off gives a static binary that runs on distroless/static; -trimpath and
# -s -w make the build reproducible and small. The same flags build bin/manager
# in the tests, so the tests run the binary this image ships.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o manager .

FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532

ENTRYPOINT ["/manager"]
