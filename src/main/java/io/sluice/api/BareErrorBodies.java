package io.sluice.api;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.sluice.errors.ApiError;
import io.vertx.core.http.HttpConnection;

/**
 * The last line behind {@link ErrorHandler}: Vert.x answers a few requests itself, before any handler of ours
 * runs, with an error status and an empty body — notably an HTTP version other than 1.0/1.1 in the request line
 * ({@code GET / HTTP/9.9}: a bare 501). This outbound handler, just in front of Vert.x's connection handler, gives
 * every such bodiless error response the JSON error shape. Responses with a body or a content type (all of ours,
 * including HEAD answers, which keep their Content-Length) pass untouched.
 */
final class BareErrorBodies extends ChannelOutboundHandlerAdapter {
  /** Vert.x's name of its connection handler in an HTTP/1.x pipeline. */
  private static final String VERTX_HANDLER = "handler";

  /** Installs it on an HTTP/1.x connection; on one Vert.x lays out differently (HTTP/2) it is not installed. */
  static void install(HttpConnection connection) {
    if (!(connection instanceof io.vertx.core.net.impl.ConnectionBase base)) {
      return;
    }
    ChannelPipeline pipeline = base.channel().pipeline();
    if (pipeline.get(VERTX_HANDLER) != null && pipeline.get(BareErrorBodies.class) == null) {
      pipeline.addBefore(VERTX_HANDLER, "sluice-bare-errors", new BareErrorBodies());
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof FullHttpResponse response && response.status().code() >= 400
        && response.content().readableBytes() == 0 && !response.headers().contains(HttpHeaderNames.CONTENT_TYPE)) {
      int status = response.status().code();
      String message = status == 501
          ? "unsupported HTTP version in the request line; use HTTP/1.1"
          : response.status().reasonPhrase();
      byte[] body = new ApiError(status, message).toJson().toBuffer().getBytes();
      FullHttpResponse json = new DefaultFullHttpResponse(response.protocolVersion(), response.status(),
          Unpooled.wrappedBuffer(body), response.headers().copy(), response.trailingHeaders().copy());
      json.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
          .set(HttpHeaderNames.CONTENT_LENGTH, body.length);
      response.release();
      ctx.write(json, promise);
      return;
    }
    ctx.write(msg, promise);
  }
}
