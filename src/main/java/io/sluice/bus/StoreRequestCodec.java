package io.sluice.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/** Passes a {@link StoreRequest} through untouched inside one JVM; encodes it as JSON across a cluster. */
public final class StoreRequestCodec implements MessageCodec<StoreRequest, StoreRequest> {
  public static final String NAME = "sluice.store-request";

  @Override
  public void encodeToWire(Buffer buffer, StoreRequest request) {
    Buffer json = request.toJson().toBuffer();
    buffer.appendInt(json.length()).appendBuffer(json);
  }

  @Override
  public StoreRequest decodeFromWire(int pos, Buffer buffer) {
    int length = buffer.getInt(pos);
    return StoreRequest.fromJson(new JsonObject(buffer.getBuffer(pos + 4, pos + 4 + length)));
  }

  @Override
  public StoreRequest transform(StoreRequest request) {
    return request;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
