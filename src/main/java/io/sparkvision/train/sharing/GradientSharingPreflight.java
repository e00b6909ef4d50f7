package io.sparkvision.train.sharing;

import org.apache.spark.SparkExecutorInfo;
import org.apache.spark.api.java.JavaSparkContext;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * DL4J's gradient-sharing mesh identifies nodes by IP address (network mask, else $DL4J_VOID_IP). Executors that
 * share an address each become their own mesh root, train alone and hand back one worker's model: a run that
 * "succeeds" with a useless model. This check refuses such a cluster before any training.
 */
public final class GradientSharingPreflight {
    private GradientSharingPreflight() {
    }

    public static void check(JavaSparkContext sc) {
        if (sc.master().startsWith("local[") || sc.master().equals("local")) return; // one JVM: DL4J trains in place
        // The status tracker lists the driver too; it is the entry at the driver's block manager address.
        org.apache.spark.storage.BlockManagerId driver = org.apache.spark.SparkEnv.get().blockManager().blockManagerId();
        List<String> hosts = new ArrayList<>();
        for (SparkExecutorInfo e : sc.sc().statusTracker().getExecutorInfos()) {
            if (!(e.host().equals(driver.host()) && e.port() == driver.port())) hosts.add(e.host());
        }
        for (String h : hosts) {
            if (Collections.frequency(hosts, h) > 1) {
                throw new IllegalArgumentException("gradient sharing needs each executor on its own IP address, but "
                        + Collections.frequency(hosts, h) + " executors share " + h + " (" + sc.master() + "). DL4J's mesh "
                        + "tells nodes apart by address; run one executor per host (on one machine: workers on distinct "
                        + "loopback addresses, as scripts/local-cluster starts them, with DL4J_VOID_IP set) or use "
                        + "train.master = parameter-averaging");
            }
        }
    }
}
