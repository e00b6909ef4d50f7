package io.sparkvision.model;

import io.sparkvision.config.Options;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The architectures the product can build, by the names job files use. */
public final class Architectures {
    private static final Map<String, Architecture> BY_NAME = new LinkedHashMap<>();

    static {
        register(new LeNet5());
        register(AlexNet.paper2012());
        register(AlexNet.torchvision());
        for (int depth : new int[] {11, 13, 16, 19}) register(new Vgg(depth, false));
        for (int depth : new int[] {11, 13, 16, 19}) register(new Vgg(depth, true));
        for (int depth : new int[] {18, 34, 50, 101, 152}) register(new ResNet(depth));
        register(new GoogLeNet(false));
        register(new NiN());
        register(new DenseNet121());
        register(new MobileNetV1());
        register(new MobileNetV2());
        register(new AllCnnC());
        register(new Mlp());
        // model.name's choices are spelled in config (which sits below this package): a job file must be able to
        // name every architecture and nothing else.
        if (!names().equals(Options.MODEL_NAME.choices())) {
            throw new IllegalStateException("config.Options.MODEL_NAME lists " + Options.MODEL_NAME.choices()
                    + " but model.Architectures builds " + names() + "; make the two lists equal");
        }
    }

    private Architectures() {
    }

    private static void register(Architecture a) {
        BY_NAME.put(a.name(), a);
    }

    public static List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(BY_NAME.keySet()));
    }

    public static Architecture get(String name) {
        Architecture a = BY_NAME.get(name);
        if (a == null) throw new IllegalArgumentException("unknown model '" + name + "'; known: " + String.join(", ", names()));
        return a;
    }
}
