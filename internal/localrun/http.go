package localrun

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// WaitHTTPOK polls url every interval until it answers 200 or ctx ends.
// Readiness endpoints are polled, never slept on.
func WaitHTTPOK(ctx context.Context, url string, interval time.Duration) error {
	client := &http.Client{Timeout: interval + time.Second}
	var last string
	err := wait.PollUntilContextCancel(ctx, interval, true, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		resp.Body.Close()
		last = resp.Status
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("%s did not answer 200 (last: %s): %w", url, last, err)
	}
	return nil
}
