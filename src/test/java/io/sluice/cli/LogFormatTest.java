package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import io.vertx.core.json.JsonObject;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** log.format=json selects logback-json.xml, whose encoder writes one JSON object per line; conf/ has copies. */
class LogFormatTest {

  @Test
  void jsonFormatSelectsTheJsonConfigurationUnlessOneIsGiven() {
    String before = System.getProperty(Main.LOGBACK_CONFIG);
    try {
      System.clearProperty(Main.LOGBACK_CONFIG);
      Main.selectLogFormat("text");
      assertThat(System.getProperty(Main.LOGBACK_CONFIG)).isNull();
      Main.selectLogFormat("json");
      assertThat(System.getProperty(Main.LOGBACK_CONFIG)).isEqualTo(Main.JSON_LOGBACK_CONFIG);
      System.setProperty(Main.LOGBACK_CONFIG, "conf/mine.xml");
      Main.selectLogFormat("json");
      assertThat(System.getProperty(Main.LOGBACK_CONFIG)).isEqualTo("conf/mine.xml");
    } finally {
      if (before == null) {
        System.clearProperty(Main.LOGBACK_CONFIG);
      } else {
        System.setProperty(Main.LOGBACK_CONFIG, before);
      }
    }
  }

  @Test
  void theJsonConfigurationWritesJsonLinesWithTheAccessLogFields() throws Exception {
    URL config = getClass().getClassLoader().getResource(Main.JSON_LOGBACK_CONFIG);
    assertThat(config).isNotNull();
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(config);
    try {
      var appender = (OutputStreamAppender<?>) context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)
          .getAppender("STDOUT");
      assertThat(appender.getEncoder()).isInstanceOf(JsonEncoder.class);
      assertThat(context.getLogger("io.sluice.access").getLevel()).isEqualTo(Level.INFO);
      JsonEncoder encoder = (JsonEncoder) appender.getEncoder();

      ch.qos.logback.classic.Logger logger = context.getLogger("io.sluice.access");
      LoggingEvent event = new LoggingEvent(getClass().getName(), logger, Level.INFO, "{} {} {}", null,
          new Object[] {"GET", "/version", 200});
      event.addKeyValuePair(new org.slf4j.event.KeyValuePair("status", 200));
      String line = new String(encoder.encode(event), StandardCharsets.UTF_8);
      assertThat(line).endsWith("\n").doesNotContain("\n{");
      JsonObject json = new JsonObject(line.trim());
      assertThat(json.getString("level")).isEqualTo("INFO");
      assertThat(json.getString("loggerName")).isEqualTo("io.sluice.access");
      assertThat(json.getString("formattedMessage")).isEqualTo("GET /version 200");
      assertThat(json.getJsonArray("kvpList").encode()).contains("status");
    } finally {
      context.stop();
    }
  }

  @Test
  void confHoldsEditableCopiesOfBothConfigurations() throws Exception {
    for (String name : new String[] {"logback.xml", Main.JSON_LOGBACK_CONFIG}) {
      String packaged = new String(getClass().getClassLoader().getResourceAsStream(name).readAllBytes(),
          StandardCharsets.UTF_8);
      assertThat(java.nio.file.Files.readString(Path.of("conf", name))).as("conf/" + name).isEqualTo(packaged);
    }
  }
}
