package io.sparkvision.train.sharing;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.parameterserver.distributed.v2.transport.UpdatesHandler;
import org.reactivestreams.Subscription;

/**
 * A subscriber to a gradient-sharing node's incoming updates that only observes them ({@link #onNext}): DL4J asks
 * only its own consumer, the first subscriber, for parameters, and the stream's lifecycle needs nothing here.
 */
public abstract class UpdatesObserver implements UpdatesHandler {

    @Override
    public INDArray getParametersArray() {
        return null;
    }

    @Override
    public void onSubscribe(Subscription subscription) {
    }

    @Override
    public void onError(Throwable throwable) {
    }

    @Override
    public void onComplete() {
    }
}
