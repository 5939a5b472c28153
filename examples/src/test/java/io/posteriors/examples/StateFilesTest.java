package io.posteriors.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import io.posteriors.DiagNormal;
import io.posteriors.ForwardFn;
import io.posteriors.FunctionalModel;
import io.posteriors.LogLikelihoods;
import io.posteriors.ModelLogPosterior;
import io.posteriors.ModelOutput;
import io.posteriors.OuterFn;
import io.posteriors.State;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.ekf.DenseEkf;
import io.posteriors.ekf.DiagEkf;
import io.posteriors.io.PosteriorFiles;
import io.posteriors.laplace.DenseFisher;
import io.posteriors.laplace.DenseGgn;
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
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every method's state saves to one file and loads back bit for bit, and a loaded state continues
 * exactly: N steps, save, load, M steps equals N + M steps with the generator reseeded at the save
 * point in both runs.
 */
class StateFilesTest {

    /** A batch of inputs and class labels. */
    record Batch(NDArray x, NDArray y) {}

    /** A linear classifier with 3 inputs and 2 classes, float64, and 16 data points. */
    record Problem(
            FunctionalModel model,
            TensorTree params,
            Batch batch,
            ModelLogPosterior<Batch> logPosterior,
            ModelLogPosterior<Batch> perSampleLogLik,
            ForwardFn<Batch> forward,
            OuterFn<Batch> outer) {

        static Problem create(NDManager m) {
            Linear block = Linear.builder().setUnits(2).build();
            block.initialize(m, DataType.FLOAT64, new Shape(1, 3));
            FunctionalModel model = FunctionalModel.of(block);
            TensorTree params = TensorTree.fromBlock(block).copy(m);
            NDArray x = m.randomNormal(0, 1, new Shape(16, 3), DataType.FLOAT64);
            NDArray y = m.randomInteger(0, 2, new Shape(16), DataType.INT64);
            ModelLogPosterior<Batch> lp =
                    ModelLogPosterior.<Batch>builder(
                                    model,
                                    b -> new NDList(b.x()),
                                    (o, b) -> LogLikelihoods.categorical(o, b.y()))
                            .prior(p -> DiagNormal.logProb(p, 0.0, 1.0, true), 16)
                            .build();
            ModelLogPosterior<Batch> lik =
                    ModelLogPosterior.<Batch>builder(
                                    model,
                                    b -> new NDList(b.x()),
                                    (o, b) -> LogLikelihoods.categorical(o, b.y()))
                            .build()
                            .perSample();
            ForwardFn<Batch> forward =
                    (p, b) -> ModelOutput.of(model.forward(p, new NDList(b.x())).head());
            OuterFn<Batch> outer = (o, b) -> LogLikelihoods.categorical(o, b.y()).sum();
            return new Problem(model, params, new Batch(x, y), lp, lik, forward, outer);
        }
    }

    static Stream<Arguments> transforms() {
        Map<String, Function<Problem, Transform<? extends State, Batch>>> all =
                new java.util.LinkedHashMap<>();
        all.put("optimize", p -> Optimize.builder(p.logPosterior(), Adam.of(1e-2)).build());
        all.put("sgld", p -> Sgld.builder(p.logPosterior(), 1e-2).temperature(0.1).build());
        all.put("sghmc", p -> Sghmc.builder(p.logPosterior(), 1e-2).temperature(0.1).build());
        all.put("sgnht", p -> Sgnht.builder(p.logPosterior(), 1e-2).temperature(0.1).build());
        all.put("baoa", p -> Baoa.builder(p.logPosterior(), 1e-2).temperature(0.1).build());
        all.put(
                "diag-fisher",
                p -> DiagFisher.builder(p.perSampleLogLik()).initPrecDiag(1).build());
        all.put("diag-ggn", p -> DiagGgn.builder(p.forward(), p.outer()).initPrecDiag(1).build());
        all.put(
                "dense-fisher",
                p -> DenseFisher.builder(p.perSampleLogLik()).perSample(true).initPrec(1).build());
        all.put("dense-ggn", p -> DenseGgn.builder(p.forward(), p.outer()).initPrec(1).build());
        all.put("dense-hessian", p -> DenseHessian.builder(p.logPosterior()).initPrec(1).build());
        all.put("diag-vi", p -> DiagVi.builder(p.logPosterior(), Adam.of(1e-2)).build());
        all.put("dense-vi", p -> DenseVi.builder(p.logPosterior(), Adam.of(1e-2)).build());
        all.put(
                "diag-ekf",
                p -> DiagEkf.builder(p.perSampleLogLik(), 1e-2).perSample(true).build());
        all.put(
                "dense-ekf",
                p -> DenseEkf.builder(p.perSampleLogLik(), 1e-2).perSample(true).build());
        return all.entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transforms")
    <S extends State> void state_savesLoadsBitForBit_andContinuesExactly(
            String name, Function<Problem, Transform<S, Batch>> make, @TempDir Path dir)
            throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            Problem p = Problem.create(m);
            Transform<S, Batch> t = make.apply(p);
            S state = t.init(p.params());
            for (int i = 0; i < 3; i++) {
                state = step(t, state, p.batch());
            }
            Path file = dir.resolve(name + ".safetensors");
            PosteriorFiles.save(file, state);
            @SuppressWarnings("unchecked")
            Class<S> type = (Class<S>) state.getClass();
            S loaded;
            try (NDManager other = NDManager.newBaseManager()) {
                loaded = PosteriorFiles.load(file, type, other);
                assertSame(type, loaded.getClass());
                assertEquals(state.step(), loaded.step());
                assertBitwiseEqual(state.arrays(), loaded.arrays(), name + " after load");
                // continue both for two steps from the same generator state
                Engine.getInstance().setRandomSeed(11);
                S a = state;
                for (int i = 0; i < 2; i++) {
                    a = step(t, a, p.batch());
                }
                Engine.getInstance().setRandomSeed(11);
                S b = loaded;
                for (int i = 0; i < 2; i++) {
                    b = step(t, b, p.batch());
                }
                assertEquals(a.step(), b.step());
                assertBitwiseEqual(a.arrays(), b.arrays(), name + " after continuing");
            }
        }
    }

    private static <S extends State> S step(Transform<S, Batch> t, S state, Batch batch) {
        Step<S> s = t.updateInPlace(state, batch);
        s.aux().close();
        return s.state();
    }

    private static void assertBitwiseEqual(List<NDArray> want, List<NDArray> got, String what) {
        assertEquals(want.size(), got.size(), what + ": number of arrays");
        for (int i = 0; i < want.size(); i++) {
            NDArray w = want.get(i);
            NDArray g = got.get(i);
            assertEquals(w.getShape(), g.getShape(), what + ": shape of array " + i);
            assertEquals(w.getDataType(), g.getDataType(), what + ": dtype of array " + i);
            assertArrayEquals(w.toByteArray(), g.toByteArray(), what + ": bytes of array " + i);
        }
    }
}
