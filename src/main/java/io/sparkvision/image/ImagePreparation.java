package io.sparkvision.image;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.io.Serializable;
import java.util.Locale;
import java.util.Map;

/**
 * The parameters of the image-preparation contract applied by {@link ImagePreparer}: what turns an arbitrary image
 * file into the pixels a model is trained and scored on. Ingest records them in {@code dataset.json}, the train job
 * copies them into {@code model.json}, and the score job prepares raw images with the model's, so training and
 * scoring cannot silently differ. Normalisation (mean/std) sits beside them in both files.
 *
 * @param size       output images are size x size; with {@link #SHORTER_SIDE} the shorter side is size and the
 *                   other keeps the image's aspect ratio (the stored size, from which training crops its input)
 * @param resize     {@link #SHORTER_SIDE_CROP}, {@link #KEEP_ASPECT} (letterboxed onto the background) or
 *                   {@link #SHORTER_SIDE} (whole image, no crop, not square); all area-average when shrinking and
 *                   interpolate linearly when enlarging ({@link Resizer})
 * @param channels   1 or 3: colour is converted to luminance (BT.601), grey replicated
 * @param background #rrggbb that alpha is flattened onto (and keep-aspect pads with)
 * @param inputSize  the model's input side when it is smaller than the stored {@code size} (model.input-size): the
 *                   model takes the centre inputSize x inputSize of the prepared image to evaluate and score, random
 *                   (resized) crops of it to train; null when the model takes the whole stored image (datasets never
 *                   record it; models trained before it existed neither)
 */
public record ImagePreparation(@JsonProperty("size") int size, @JsonProperty("resize") String resize,
                               @JsonProperty("channels") int channels, @JsonProperty("background") String background,
                               @JsonProperty("inputSize") @JsonInclude(JsonInclude.Include.NON_NULL) Integer inputSize)
        implements Serializable {
    public static final String SHORTER_SIDE_CROP = "shorter-side-crop";
    public static final String KEEP_ASPECT = "keep-aspect";
    /**
     * Shorter side scaled to size, aspect kept, nothing cropped: each image keeps its own width and height, so
     * training can take random-resized crops of the whole image (the ResNet recipe).
     */
    public static final String SHORTER_SIDE = "shorter-side";
    /** The background of the defaults: white, so transparent pixels do not become black. */
    public static final String WHITE = "#ffffff";

    public ImagePreparation {
        if (size <= 0) throw new IllegalArgumentException("image preparation: size must be positive, not " + size);
        if (!SHORTER_SIDE_CROP.equals(resize) && !KEEP_ASPECT.equals(resize) && !SHORTER_SIDE.equals(resize)) {
            throw new IllegalArgumentException("image preparation: resize = " + resize + ", expected "
                    + SHORTER_SIDE_CROP + ", " + KEEP_ASPECT + " or " + SHORTER_SIDE);
        }
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("image preparation: channels must be 1 or 3, not " + channels);
        if (background == null || !background.toLowerCase(Locale.ROOT).matches("#[0-9a-f]{6}")) {
            throw new IllegalArgumentException("image preparation: background = " + background + ", expected #rrggbb");
        }
        background = background.toLowerCase(Locale.ROOT);
        if (inputSize != null && inputSize == size) inputSize = null;
        if (inputSize != null && (inputSize < 1 || inputSize > size)) {
            throw new IllegalArgumentException("image preparation: inputSize " + inputSize + " must be between 1 and the stored size " + size);
        }
    }

    /** A stored preparation, the model taking the whole image (what every dataset records). */
    @JsonCreator(mode = JsonCreator.Mode.DISABLED)
    public ImagePreparation(int size, String resize, int channels, String background) {
        this(size, resize, channels, background, null);
    }

    public ImagePreparation(int size, String resize, int channels, int backgroundRgb) {
        this(size, resize, channels, String.format("#%06x", backgroundRgb & 0xffffff));
    }

    /** The same stored images, the model taking their centre (evaluation, scoring) or random crops (training) of {@code side}. */
    public ImagePreparation withInputSize(int side) {
        return new ImagePreparation(size, resize, channels, background, side);
    }

    /** How the images are stored, whatever the model takes of them: what a dataset and a model must agree on. */
    @JsonIgnore
    public ImagePreparation stored() {
        return inputSize == null ? this : new ImagePreparation(size, resize, channels, background, null);
    }

    /** The side of the model's square input: {@link #inputSize} when set, else the stored size. */
    @JsonIgnore
    public int inputSide() {
        return inputSize == null ? size : inputSize;
    }

    /**
     * What a dataset or model that records no preparation (written before it was recorded, or an IDX dataset whose
     * images arrive at their size) is taken to use: today's ingest defaults, shorter-side-crop onto white.
     */
    public static ImagePreparation defaults(int size, int channels) {
        return new ImagePreparation(size, SHORTER_SIDE_CROP, channels, WHITE);
    }

    /**
     * The preparation a model's metadata ({@code model.json}'s "preparation") records, checked against its input
     * shape; the defaults for that shape when absent (models trained before it was recorded).
     */
    public static ImagePreparation ofModel(Map<String, Object> meta, InputShape shape, String where) {
        return ofModel(recordedIn(meta, where), shape, where);
    }

    /** The same from the preparation a model records ({@code recorded}, null when none). */
    public static ImagePreparation ofModel(ImagePreparation recorded, InputShape shape, String where) {
        ImagePreparation prep = recorded;
        if (prep == null) {
            requireSquare(shape.width(), shape.height(), where);
            prep = defaults(shape.width(), shape.channels());
        }
        if (prep.inputSide() != shape.width() || prep.inputSide() != shape.height() || prep.channels != shape.channels()) {
            throw new IllegalArgumentException(where + ": preparation " + prep + " does not produce the model's input " + shape);
        }
        return prep;
    }

    /** The preparation {@code meta} ("preparation" of model.json) records, or null when it records none. */
    public static ImagePreparation recordedIn(Map<String, Object> meta, String where) {
        Object p = meta == null ? null : meta.get("preparation");
        if (p == null) return null;
        if (p instanceof Map<?, ?> m && m.get("size") instanceof Number size && m.get("channels") instanceof Number ch) {
            try {
                Object input = m.get("inputSize");
                if (input != null && !(input instanceof Number)) throw new IllegalArgumentException("inputSize must be a number, not " + input);
                return new ImagePreparation(size.intValue(), String.valueOf(m.get("resize")), ch.intValue(), String.valueOf(m.get("background")),
                        input == null ? null : ((Number) input).intValue());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage());
            }
        }
        throw new IllegalArgumentException(where + ": \"preparation\" must be an object with size, resize, channels, background; got " + p);
    }

    private static void requireSquare(int width, int height, String where) {
        if (width != height) {
            throw new IllegalArgumentException(where + " is " + width + "x" + height + " and records no image preparation: "
                    + "only square inputs have default preparation; re-ingest the images");
        }
    }

    /** True when every prepared image is size x size (false for {@link #SHORTER_SIDE}). */
    @JsonIgnore
    public boolean square() {
        return !SHORTER_SIDE.equals(resize);
    }

    @JsonIgnore
    public int backgroundRgb() {
        return Integer.parseInt(background.substring(1), 16);
    }

    /** The model's input: channels x {@link #inputSide()} x {@link #inputSide()}. */
    @JsonIgnore
    public InputShape shape() {
        return new InputShape(channels, inputSide(), inputSide());
    }
}
