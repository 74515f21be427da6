package io.sluice.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * Passes a {@link StoreRequest} through untouched inside one JVM; across a cluster (an import's batches, {@link
 * Addresses#IMPORT_BATCH}) it encodes to bytes: the request without its payload as JSON, then the payload's raw
 * bytes (a batch of rows, not base64 inside the JSON). Wire format: int length, JSON, int payload length (-1: no
 * payload), payload.
 */
public final class StoreRequestCodec implements MessageCodec<StoreRequest, StoreRequest> {
  public static final String NAME = "sluice.store-request";

  @Override
  public void encodeToWire(Buffer buffer, StoreRequest request) {
    Buffer json = new StoreRequest(request.op(), request.table(), request.column(), request.body(), null).toJson()
        .toBuffer();
    buffer.appendInt(json.length()).appendBuffer(json);
    if (request.payload() == null) {
      buffer.appendInt(-1);
    } else {
      buffer.appendInt(request.payload().length()).appendBuffer(request.payload());
    }
  }

  @Override
  public StoreRequest decodeFromWire(int pos, Buffer buffer) {
    int length = buffer.getInt(pos);
    StoreRequest head = StoreRequest.fromJson(new JsonObject(buffer.getBuffer(pos + 4, pos + 4 + length)));
    int at = pos + 4 + length;
    int payloadLength = buffer.getInt(at);
    Buffer payload = payloadLength < 0 ? null : buffer.getBuffer(at + 4, at + 4 + payloadLength);
    return new StoreRequest(head.op(), head.table(), head.column(), head.body(), payload);
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
