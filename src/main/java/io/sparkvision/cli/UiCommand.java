package io.sparkvision.cli;

import io.sparkvision.train.ui.RunViewer;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code sparkvision ui RUN_DIR}: DL4J's Training UI over the statistics a train run with ui.enabled recorded. */
@Command(name = "ui", mixinStandardHelpOptions = true,
        description = "Serve DL4J's Training UI for a run directory (a finished run, or one still training) until Ctrl-C.")
final class UiCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN_DIR", description = "the train job's output.dir (any Hadoop URI)")
    String runDir;

    @Option(names = "--port", description = "port to listen on; 0 = a free one (default: ${DEFAULT-VALUE})")
    int port = 0;

    @Option(names = "--host", description = "address to listen on; 0.0.0.0 opens it (unauthenticated) to the network "
            + "(default: ${DEFAULT-VALUE})")
    String host = "127.0.0.1";

    @Override
    public Integer call() throws Exception {
        try (RunViewer viewer = RunViewer.open(runDir, new Configuration(), host, port)) {
            String shown = host.equals("0.0.0.0") ? "localhost" : host;
            System.out.printf("training UI: http://%s:%d/train/overview (%d training session(s) of %s; a run still "
                    + "training: reload the page for newer iterations); Ctrl-C stops it%n", shown, viewer.port(),
                    viewer.sessions(), runDir);
            System.out.flush();
            new CountDownLatch(1).await(); // until the JVM is interrupted; closing stops the server
        }
        return 0;
    }
}
