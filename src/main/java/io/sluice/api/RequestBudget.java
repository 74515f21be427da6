package io.sluice.api;

import io.sluice.errors.ApiError;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounds the request bytes held in memory at once across all HTTP verticles of the node. A request reserves
 * its declared length (or the largest body it may send) before its body is read and releases it when its
 * response ends; past the budget it is refused with 429 so the client retries, instead of the server running
 * out of memory.
 */
public final class RequestBudget {
  private final long limit;
  private final AtomicLong inFlight = new AtomicLong();

  public RequestBudget(long limit) {
    this.limit = limit;
  }

  public long inFlight() {
    return inFlight.get();
  }

  /** Route handler: reserves up to {@code maxBytes} for this request's body. */
  void reserve(RoutingContext ctx, long maxBytes) {
    String declared = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
    long bytes = maxBytes;
    if (declared != null) {
      try {
        bytes = Math.min(Long.parseLong(declared.trim()), maxBytes);
      } catch (NumberFormatException e) {
        bytes = maxBytes;
      }
    }
    if (bytes <= 0) {
      ctx.next();
      return;
    }
    long reserved = bytes;
    long after = inFlight.addAndGet(reserved);
    // A single request is always admitted when nothing else is in flight, so a small budget cannot block it.
    if (after > limit && after != reserved) {
      inFlight.addAndGet(-reserved);
      ctx.fail(new ApiError(429, "the server is busy: " + (after - reserved) + " request bytes in flight (budget "
          + limit + "); retry shortly"));
      return;
    }
    ctx.addEndHandler(done -> inFlight.addAndGet(-reserved));
    ctx.next();
  }
}
