package io.posteriors.laplace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.posteriors.FunctionalModel;
import io.posteriors.LogLikelihoods;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.ModelLogPosterior;
import io.posteriors.ModelOutput;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.Fixtures.XY;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A {@link ModelLogPosterior} (which may take the core's fast per-sample path) gives the same
 * precision as the equivalent hand-written functions (generic path) in every transform that accepts
 * it.
 */
class ModelLogPosteriorTest {

    private static final int N = 24;

    private NDManager manager;
    private FunctionalModel model;
    private TensorTree params;
    private XY data;
    private ModelLogPosterior<XY> structured;
    private ModelLogPosterior<XY> likelihoodOnly;
    private LogProbFn<XY> lambda;
    private LogProbFn<XY> lambdaLikelihoodOnly;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(49);
        manager = NDManager.newBaseManager();
        SequentialBlock block = new SequentialBlock();
        block.add(Linear.builder().setUnits(5).build());
        block.add(Activation::tanh);
        block.add(Linear.builder().setUnits(3).build());
        block.initialize(manager, DataType.FLOAT64, new Shape(1, 4));
        model = FunctionalModel.of(block);
        params = TensorTree.fromBlock(block).copy(manager);
        NDArray x = manager.randomNormal(new Shape(N, 4)).toType(DataType.FLOAT64, false);
        NDArray y = manager.randomInteger(0, 3, new Shape(N), DataType.INT64);
        data = new XY(x, y);
        structured =
                ModelLogPosterior.<XY>builder(
                                model,
                                b -> new NDList(b.x()),
                                (o, b) -> LogLikelihoods.categorical(o, b.y()))
                        .prior(p -> Fixtures.logPrior(p, 1.0), N)
                        .build();
        // without a prior: the core divides the prior by N with a number operand, which is not
        // safe on the generic path (see Fixtures); the fast path of the DiagFisher test is
        likelihoodOnly =
                ModelLogPosterior.<XY>builder(
                                model,
                                b -> new NDList(b.x()),
                                (o, b) -> LogLikelihoods.categorical(o, b.y()))
                        .build();
        lambdaLikelihoodOnly =
                (p, b) -> {
                    NDArray o = model.forward(p, new NDList(b.x())).singletonOrThrow();
                    return LogProb.of(LogLikelihoods.categorical(o, b.y()).mean(), o);
                };
        // the same log posterior written by hand: mean log likelihood + log prior / N
        lambda =
                (p, b) -> {
                    NDArray o = model.forward(p, new NDList(b.x())).singletonOrThrow();
                    NDArray ll = LogLikelihoods.categorical(o, b.y()).mean();
                    NDArray prior = Fixtures.logPrior(p, 1.0);
                    return LogProb.of(ll.add(prior.mul(Fixtures.constant(prior, 1.0 / N))), o);
                };
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private static <S extends io.posteriors.State> S pass(
            Transform<S, XY> t, TensorTree params, List<XY> batches) {
        S s = t.init(params);
        for (XY b : batches) {
            var step = t.updateInPlace(s, b);
            step.aux().close();
            s = step.state();
        }
        return s;
    }

    @Test
    void diagFisher_structuredEqualsHandWritten_whateverPerSampleSays() {
        List<XY> batches = Fixtures.minibatches(data, 8);
        DiagLaplaceState expected = pass(DiagFisher.builder(lambda).build(), params, batches);
        for (boolean perSample : new boolean[] {false, true}) {
            DiagLaplaceState actual =
                    pass(
                            DiagFisher.builder(structured).perSample(perSample).build(),
                            params,
                            batches);
            assertTrue(
                    expected.precDiag().allClose(actual.precDiag(), 1e-9, 1e-12),
                    "perSample " + perSample);
        }
    }

    @Test
    void denseFisher_structuredEqualsHandWritten() {
        List<XY> batches = Fixtures.minibatches(data, 8);
        DenseLaplaceState expected =
                pass(DenseFisher.builder(lambdaLikelihoodOnly).build(), params, batches);
        DenseLaplaceState actual =
                pass(DenseFisher.builder(likelihoodOnly).build(), params, batches);
        assertTrue(expected.prec().allClose(actual.prec(), 1e-9, 1e-12, false));
    }

    @Test
    void diagGgn_structuredEqualsForwardAndOuter() {
        List<XY> batches = Fixtures.minibatches(data, 8);
        DiagLaplaceState expected =
                pass(
                        DiagGgn.<XY>builder(
                                        (p, b) ->
                                                ModelOutput.of(
                                                        model.forward(p, new NDList(b.x()))
                                                                .singletonOrThrow()),
                                        (o, b) -> LogLikelihoods.categorical(o, b.y()).sum())
                                .initPrecDiag(1.0)
                                .build(),
                        params,
                        batches);
        DiagLaplaceState actual =
                pass(DiagGgn.builder(likelihoodOnly).initPrecDiag(1.0).build(), params, batches);
        assertTrue(expected.precDiag().allClose(actual.precDiag(), 1e-9, 1e-12));
        var step =
                DiagGgn.builder(structured)
                        .build()
                        .update(DiagGgn.builder(structured).build().init(params), data);
        assertEquals(new Shape(N, 3), step.aux().get(0).getShape(), "aux: the model outputs");
    }
}
