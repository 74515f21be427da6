package io.sluice.bus;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.TestSeeds;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.impl.codecs.JsonObjectMessageCodec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The messages that cross nodes (an import batch to {@link Addresses#IMPORT_BATCH}, and its reply) survive their
 * encoding to bytes: what another node decodes is what was sent.
 */
@ExtendWith(TestSeeds.class)
class StoreRequestCodecTest {
  private final StoreRequestCodec codec = new StoreRequestCodec();

  @Test
  void anImportBatchRoundTrips() {
    Random random = TestSeeds.random("StoreRequestCodecTest");
    byte[] rows = new byte[random.nextInt(200_000)];
    random.nextBytes(rows); // any bytes: the payload is raw, whatever its encoding
    JsonObject args = new JsonObject().put("firstLine", 1 + random.nextInt(1_000_000)).put("job", "j-1")
        .put("batch", random.nextInt(10_000)).put("validateOnly", false).put("deferCommit", true)
        .put("tableId", "t7").put("holder", "node-a");
    StoreRequest sent = new StoreRequest(StoreOp.APPEND_LINES, "pets ü", null, args, Buffer.buffer(rows));
    StoreRequest received = roundTrip(sent, random.nextInt(64));
    assertThat(received.op()).isEqualTo(StoreOp.APPEND_LINES);
    assertThat(received.table()).isEqualTo("pets ü");
    assertThat(received.column()).isNull();
    assertThat(received.body()).as(TestSeeds.replay()).isEqualTo(args);
    assertThat(received.payload().getBytes()).as(TestSeeds.replay()).isEqualTo(rows);
  }

  @Test
  void aRequestWithoutBodyOrPayloadRoundTrips() {
    StoreRequest sent = new StoreRequest(StoreOp.SYNC, "t", "c", null, null);
    StoreRequest received = roundTrip(sent, 0);
    assertThat(received).isEqualTo(sent);
    StoreRequest empty = roundTrip(new StoreRequest(StoreOp.APPEND_LINES, "t", null, new JsonObject(),
        Buffer.buffer()), 3);
    assertThat(empty.payload().length()).isZero();
  }

  @Test
  void aBatchReplyRoundTrips() {
    JsonObject reply = new JsonObject().put("table", "pets").put("appended", 499).put("failedCount", 1)
        .put("failures", new JsonArray().add(new JsonObject().put("line", 17).put("message", "bad \"id\"")))
        .put("last", new JsonObject().put("id", 499).put("name", "ä"));
    JsonObjectMessageCodec replies = new JsonObjectMessageCodec();
    Buffer wire = Buffer.buffer("xy".getBytes(StandardCharsets.UTF_8));
    replies.encodeToWire(wire, reply);
    assertThat(replies.decodeFromWire(2, wire)).isEqualTo(reply);
  }

  /** Encodes after {@code offset} bytes of something else (the bus's headers), decodes from there. */
  private StoreRequest roundTrip(StoreRequest request, int offset) {
    Buffer wire = Buffer.buffer(new byte[offset]);
    codec.encodeToWire(wire, request);
    Buffer trailing = wire.copy().appendString("after");
    StoreRequest decoded = codec.decodeFromWire(offset, trailing);
    assertThat(codec.transform(request)).isSameAs(request);
    return decoded;
  }
}
