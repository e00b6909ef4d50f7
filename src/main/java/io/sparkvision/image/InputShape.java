package io.sparkvision.image;

/** Channels x height x width of the images a network takes, as in {@code --input 3x224x224}. */
public record InputShape(int channels, int height, int width) implements java.io.Serializable {
    public InputShape {
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("input shape must be positive, got " + channels + "x" + height + "x" + width);
        }
    }

    public static InputShape parse(String text) {
        String[] p = text.trim().toLowerCase().split("x");
        if (p.length != 3) throw new IllegalArgumentException("input shape '" + text + "': expected CxHxW, e.g. 3x224x224");
        try {
            return new InputShape(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("input shape '" + text + "': expected CxHxW, e.g. 3x224x224");
        }
    }

    public int pixels() {
        return channels * height * width;
    }

    @Override
    public String toString() {
        return channels + "x" + height + "x" + width;
    }
}
