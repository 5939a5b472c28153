package io.posteriors.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.posteriors.DiagNormal;
import io.posteriors.FunctionalModel;
import io.posteriors.LogLikelihoods;
import io.posteriors.ModelLogPosterior;
import io.posteriors.State;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.ekf.DenseEkf;
import io.posteriors.ekf.DiagEkf;
import io.posteriors.laplace.DenseFisher;
import io.posteriors.laplace.DenseHessian;
import io.posteriors.laplace.DiagFisher;
import io.posteriors.laplace.DiagGgn;
import io.posteriors.optim.Adam;
import io.posteriors.optim.Optimize;
import io.posteriors.sgmcmc.Baoa;
import io.posteriors.sgmcmc.Sghmc;
import io.posteriors.sgmcmc.Sgld;
import io.posteriors.sgmcmc.Sgnht;
import io.posteriors.vi.DenseVi;
import io.posteriors.vi.DiagVi;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every transform's one-step contract (init gives step 0; a pure update leaves its input
 * unchanged; in-place equals pure under one seed; no array leaks; every state array stays on the
 * device) on the first accelerator DJL finds, with a small MLP classifier built through {@link
 * ModelLogPosterior}. Skipped where DJL finds no GPU (every CPU machine, CI included); on a machine
 * with a CUDA libtorch set up as docs/install.md says, run it alone with
 *
 * <pre>
 * mvn -B -ntp install -DskipTests &amp;&amp; mvn -B -ntp -pl examples test -Dtest=AcceleratorContractTest
 * </pre>
 */
class AcceleratorContractTest {

    private static final int N = 16;

    /** A batch: features and class labels. */
    record Batch(NDArray x, NDArray y) {}

    /**
     * Returns the first GPU, or the CPU when {@code -Daccelerator.test.onCpu=true} (to check this
     * test itself on a machine without one); skips otherwise.
     */
    private static Device accelerator() {
        if (Engine.getInstance().getGpuCount() > 0) {
            return Device.gpu();
        }
        Assumptions.assumeTrue(
                Boolean.getBoolean("accelerator.test.onCpu"),
                "no GPU: DJL's PyTorch engine ("
                        + Engine.getInstance().getVersion()
                        + ") found none; see docs/install.md#gpu for a CUDA libtorch");
        return Device.cpu();
    }

    static Stream<String> transforms() {
        return Stream.of(
                "Optimize(Adam)",
                "Sgld",
                "Sghmc",
                "Sgnht",
                "Baoa",
                "DiagFisher",
                "DiagGgn",
                "DenseFisher",
                "DenseHessian",
                "DiagVi",
                "DenseVi",
                "DiagEkf",
                "DenseEkf");
    }

    private static Transform<? extends State, Batch> transform(
            String name, ModelLogPosterior<Batch> lp) {
        return switch (name) {
            case "Optimize(Adam)" -> Optimize.builder(lp, Adam.of(1e-2)).build();
            case "Sgld" -> Sgld.builder(lp, 1e-3).temperature(1.0 / N).build();
            case "Sghmc" -> Sghmc.builder(lp, 1e-3).temperature(1.0 / N).build();
            case "Sgnht" -> Sgnht.builder(lp, 1e-3).temperature(1.0 / N).build();
            case "Baoa" -> Baoa.builder(lp, 1e-3).temperature(1.0 / N).build();
            case "DiagFisher" -> DiagFisher.builder(lp).build();
            case "DiagGgn" -> DiagGgn.builder(lp).build();
            case "DenseFisher" -> DenseFisher.builder(lp).build();
            case "DenseHessian" -> DenseHessian.builder(lp).build();
            case "DiagVi" -> DiagVi.builder(lp, Adam.of(1e-2)).build();
            case "DenseVi" -> DenseVi.builder(lp, Adam.of(1e-2)).build();
            case "DiagEkf" -> DiagEkf.builder(lp, 0.5).build();
            case "DenseEkf" -> DenseEkf.builder(lp, 0.5).build();
            default -> throw new IllegalArgumentException("unknown transform " + name);
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transforms")
    void oneStepContract_onAccelerator_holds(String name) {
        Device gpu = accelerator();
        try (NDManager m = NDManager.newBaseManager(gpu)) {
            Engine.getInstance().setRandomSeed(11);
            SequentialBlock block = new SequentialBlock();
            block.add(Linear.builder().setUnits(4).build());
            block.add(Activation::tanh);
            block.add(Linear.builder().setUnits(3).build());
            block.initialize(m, DataType.FLOAT32, new Shape(1, 2));
            ModelLogPosterior<Batch> lp =
                    ModelLogPosterior.<Batch>builder(
                                    FunctionalModel.of(block),
                                    b -> new NDList(b.x()),
                                    (logits, b) -> LogLikelihoods.categorical(logits, b.y()))
                            .prior(p -> DiagNormal.logProb(p, 0, 1, true), N)
                            .build();
            NDArray x = m.randomNormal(0, 1, new Shape(N, 2), DataType.FLOAT32);
            Batch batch = new Batch(x, m.randomInteger(0, 3, new Shape(N), DataType.INT64));
            check(transform(name, lp), TensorTree.fromBlock(block), batch, m, gpu);
        }
    }

    private static <S extends State> void check(
            Transform<S, Batch> t, TensorTree p, Batch batch, NDManager m, Device gpu) {
        // init: step 0, on the device
        Engine.getInstance().setRandomSeed(13);
        S s = t.init(p);
        assertEquals(0, s.step());
        onDevice(s.arrays(), gpu, "init");

        // pure update: input unchanged, step advanced, on the device
        List<NDArray> before = s.arrays().stream().map(NDArray::duplicate).toList();
        Engine.getInstance().setRandomSeed(14);
        Step<S> pure = t.update(s, batch);
        assertEquals(1, pure.state().step());
        for (int i = 0; i < before.size(); i++) {
            assertTrue(
                    sameWithNaN(before.get(i), s.arrays().get(i)),
                    "pure update changed input " + i);
        }
        onDevice(pure.state().arrays(), gpu, "update");

        // in place equals pure under one seed
        Engine.getInstance().setRandomSeed(13);
        S s2 = t.init(p);
        Engine.getInstance().setRandomSeed(14);
        Step<S> inPlace = t.updateInPlace(s2, batch);
        List<NDArray> a = pure.state().arrays();
        List<NDArray> b = inPlace.state().arrays();
        for (int i = 0; i < a.size(); i++) {
            assertTrue(
                    a.get(i).allClose(b.get(i), 1e-4, 1e-5, true),
                    "in-place and pure differ at array " + i);
        }
        pure.state().close();
        pure.aux().close();
        inPlace.aux().close();

        // no leaks: after a warm-up, pure updates leave the manager's count unchanged
        Step<S> warm = t.update(s, batch);
        warm.state().close();
        warm.aux().close();
        int count = m.getManagedArrays().size();
        for (int i = 0; i < 3; i++) {
            Step<S> step = t.update(s, batch);
            step.state().close();
            step.aux().close();
        }
        assertEquals(count, m.getManagedArrays().size(), "arrays leaked by pure updates");
    }

    /** Equal values, NaN equal to NaN (states hold NaN for values not computed yet). */
    private static boolean sameWithNaN(NDArray a, NDArray b) {
        double[] x = a.toType(DataType.FLOAT64, false).toDoubleArray();
        double[] y = b.toType(DataType.FLOAT64, false).toDoubleArray();
        return java.util.Arrays.equals(x, y);
    }

    private static void onDevice(List<NDArray> arrays, Device device, String where) {
        for (int i = 0; i < arrays.size(); i++) {
            assertEquals(device, arrays.get(i).getDevice(), where + ": array " + i);
        }
    }
}
