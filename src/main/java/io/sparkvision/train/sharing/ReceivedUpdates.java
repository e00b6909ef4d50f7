package io.sparkvision.train.sharing;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.parameterserver.distributed.v2.ModelParameterServer;
import org.nd4j.parameterserver.distributed.v2.transport.Transport;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Counts the encoded updates this JVM's gradient-sharing node receives over DL4J's mesh: on a worker these are the
 * other workers' steps (a node never receives its own), the evidence that the executors really trained together.
 * It subscribes next to DL4J's own consumer on the JVM's parameter server, once per transport.
 */
public final class ReceivedUpdates extends UpdatesObserver {
    private static final AtomicLong COUNT = new AtomicLong();
    private static final AtomicReference<Transport> SUBSCRIBED_TO = new AtomicReference<>();

    private ReceivedUpdates() {
    }

    /** Starts counting if this JVM has a running gradient-sharing node; returns the count so far. */
    public static long count() {
        ModelParameterServer server = ModelParameterServer.getInstance();
        Transport transport = server.isInitialized() ? server.getTransport() : null;
        if (transport != null && SUBSCRIBED_TO.getAndSet(transport) != transport) server.addUpdatesSubscriber(new ReceivedUpdates());
        return COUNT.get();
    }

    /** True once this JVM's parameter server has been started (gradient sharing), false for parameter averaging. */
    public static boolean meshNode() {
        return ModelParameterServer.getInstance().isInitialized();
    }

    @Override
    public void onNext(INDArray update) {
        COUNT.incrementAndGet();
    }
}
