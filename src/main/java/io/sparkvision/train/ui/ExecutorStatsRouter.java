package io.sparkvision.train.ui;

import org.deeplearning4j.core.storage.Persistable;
import org.deeplearning4j.core.storage.StatsStorageRouter;
import org.deeplearning4j.core.storage.StorageMetaData;
import org.deeplearning4j.core.storage.impl.RemoteUIStatsStorageRouter;

import java.io.Serializable;
import java.util.Collection;

/**
 * What gradient sharing's executors report through: DL4J's {@link RemoteUIStatsStorageRouter}, built where it is
 * used rather than shipped.
 *
 * <p>Why not ship DL4J's router itself: its queue is transient, and a deserialised copy starts its posting thread
 * before it re-creates the queue; when that thread wins the race it dies on a NullPointerException ("queue is null")
 * and the router drops every report after it. The live-UI test lost a whole run's statistics that way (1 of 2
 * tries on local[2]). A router built by its constructor has its queue before any thread exists.
 */
final class ExecutorStatsRouter implements StatsStorageRouter, Serializable {
    private static final long serialVersionUID = 1L;
    private final String receiver;
    private transient volatile RemoteUIStatsStorageRouter router;

    ExecutorStatsRouter(String receiver) {
        this.receiver = receiver;
    }

    private RemoteUIStatsStorageRouter router() {
        RemoteUIStatsStorageRouter r = router;
        if (r == null) {
            synchronized (this) {
                if (router == null) router = new RemoteUIStatsStorageRouter(receiver);
                r = router;
            }
        }
        return r;
    }

    @Override
    public void putStorageMetaData(StorageMetaData meta) {
        router().putStorageMetaData(meta);
    }

    @Override
    public void putStorageMetaData(Collection<? extends StorageMetaData> meta) {
        router().putStorageMetaData(meta);
    }

    @Override
    public void putStaticInfo(Persistable info) {
        router().putStaticInfo(info);
    }

    @Override
    public void putStaticInfo(Collection<? extends Persistable> info) {
        router().putStaticInfo(info);
    }

    @Override
    public void putUpdate(Persistable update) {
        router().putUpdate(update);
    }

    @Override
    public void putUpdate(Collection<? extends Persistable> updates) {
        router().putUpdate(updates);
    }
}
