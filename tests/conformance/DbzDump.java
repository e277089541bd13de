// Debezium embedded-engine reference dumper for the conformance test.
//
//   java -cp 'classes:lib/*' DbzDump engine.properties out.jsonl [idleExitSeconds]
//
// Writes one JSON line per change event:
//   {"topic":T,"key":<key JSON or null>,"value":<value JSON or null>,"headers":{"name":"value",...}}
// Key and value are the exact JsonConverter output (schemas.enable=true, as Kafka Connect
// would write them); a null value is a delete tombstone. Header values are the strings the
// header converter gives (set header.converter.class=org.apache.kafka.connect.storage.SimpleHeaderConverter
// in the engine properties for the Kafka Connect worker default). Every line is flushed at
// once, so a reader can tail the file. Stops on SIGTERM (closing the engine cleanly), or
// after idleExitSeconds without events once at least one was seen.
// Written after the recipe in shared/reference/real-peers.md section 2.4.

import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.Header;
import io.debezium.engine.format.Json;
import io.debezium.engine.format.KeyValueHeaderChangeEventFormat;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

public final class DbzDump {
    private static String jsonString(Object o) {
        if (o == null)
            return "null";
        String s = o.toString();
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20)
                        b.append(String.format("\\u%04x", (int) c));
                    else
                        b.append(c);
            }
        }
        return b.append('"').toString();
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        try (InputStream in = new FileInputStream(args[0])) {
            props.load(in);
        }
        OutputStream os = (args.length > 1 && !"-".equals(args[1])) ? new FileOutputStream(args[1], true) : System.out;
        PrintWriter out = new PrintWriter(new OutputStreamWriter(os, StandardCharsets.UTF_8), true);
        long idleMs = args.length > 2 ? Long.parseLong(args[2]) * 1000L : 0L;
        AtomicLong last = new AtomicLong(System.currentTimeMillis()), count = new AtomicLong();
        AtomicBoolean closing = new AtomicBoolean();
        CountDownLatch stopped = new CountDownLatch(1);

        DebeziumEngine<ChangeEvent<String, String>> engine = DebeziumEngine
                .create(KeyValueHeaderChangeEventFormat.of(Json.class, Json.class, Json.class))
                .using(props)
                .using((ok, msg, err) -> {
                    System.err.println("[DbzDump] stopped ok=" + ok + " " + msg);
                    if (err != null)
                        err.printStackTrace();
                    stopped.countDown();
                })
                .notifying(rec -> {
                    StringBuilder h = new StringBuilder("{");
                    for (Header<?> hd : rec.headers()) {
                        if (h.length() > 1)
                            h.append(',');
                        h.append(jsonString(hd.getKey())).append(':').append(jsonString(hd.getValue()));
                    }
                    h.append('}');
                    String line = "{\"topic\":" + jsonString(rec.destination()) + ",\"key\":" + rec.key()
                            + ",\"value\":" + rec.value() + ",\"headers\":" + h + "}";
                    synchronized (out) {
                        out.println(line);
                        out.flush();
                    }
                    count.incrementAndGet();
                    last.set(System.currentTimeMillis());
                })
                .build();

        ExecutorService ex = Executors.newSingleThreadExecutor();
        ex.execute(engine);
        Runnable stop = () -> {
            if (closing.compareAndSet(false, true)) {
                try {
                    engine.close();
                }
                catch (Exception e) {
                    closing.set(false);
                }
            }
        };
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (int i = 0; i < 60 && stopped.getCount() > 0; i++) {
                stop.run();
                try {
                    stopped.await(500, TimeUnit.MILLISECONDS);
                }
                catch (InterruptedException ignored) {
                }
            }
            out.flush();
        }));
        while (!stopped.await(500, TimeUnit.MILLISECONDS)) {
            if (idleMs > 0 && count.get() > 0 && System.currentTimeMillis() - last.get() > idleMs)
                stop.run();
        }
        ex.shutdown();
        out.flush();
        System.exit(0);
    }
}
