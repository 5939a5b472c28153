package io.posteriors.laplace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.posteriors.FunctionalModel;
import io.posteriors.LogLikelihoods;
import io.posteriors.ModelLogPosterior;
import io.posteriors.TensorTree;
import io.posteriors.laplace.Fixtures.XY;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.LUDecomposition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** K-FAC empirical Fisher exact for one sample; the continual prior from a previous fit. */
class KfacFisherTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(5);
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void oneLayerOneSample_blockEqualsDenseEmpiricalFisher() {
        SequentialBlock block = new SequentialBlock();
        block.add(Linear.builder().setUnits(3).build());
        block.initialize(manager, DataType.FLOAT64, new Shape(1, 4));
        ModelLogPosterior<XY> lp =
                ModelLogPosterior.<XY>builder(
                                FunctionalModel.of(block),
                                b -> new NDList(b.x()),
                                (o, b) -> LogLikelihoods.categorical(o, b.y()))
                        .build();
        TensorTree map = TensorTree.fromBlock(block).copy(manager);
        XY one =
                new XY(
                        manager.randomNormal(new Shape(1, 4)).toType(DataType.FLOAT64, false),
                        manager.create(new long[] {2}));
        var kfac = KfacFisher.builder(lp).priorPrecision(0.3).build();
        KfacLaplaceState s = kfac.updateInPlace(kfac.init(map), one).state();
        var dense = DenseFisher.builder(lp.perSample()).perSample(true).initPrec(0.3).build();
        DenseLaplaceState d = dense.updateInPlace(dense.init(map), one).state();
        int p = (int) map.numel();
        NDArray cov = s.projectCovariance(manager.eye(p).toType(DataType.FLOAT64, false));
        double[][] prec =
                new LUDecomposition(new Array2DRowRealMatrix(Fixtures.matrix(cov)))
                        .getSolver()
                        .getInverse()
                        .getData();
        Fixtures.assertMatrixClose(Fixtures.matrix(d.prec()), prec, 1e-9);
    }

    @Test
    void prior_previousPosterior_scalesPrecisionByTemperature() {
        TensorTree params = Fixtures.params(manager);
        var first =
                DiagGgn.builder(Fixtures.linear(), Fixtures.gaussianOuter())
                        .initPrecDiag(1.0)
                        .build();
        XY data = Fixtures.regression(manager, 20);
        DiagLaplaceState prev = first.updateInPlace(first.init(params), data).state();
        var next =
                DiagFisher.builder(Fixtures.perSampleGaussianLogLik())
                        .perSample(true)
                        .prior(prev, 2.0)
                        .build();
        DiagLaplaceState s = next.init(params);
        try (TensorTree half = prev.precDiag().map(a -> a.div(2.0))) {
            assertTrue(s.precDiag().allClose(half, 1e-12, 0));
        }
        // the matching log prior for the next MAP is the previous posterior at T
        NDArray lp = prev.logProb(params, 2.0);
        assertEquals(0, lp.getShape().dimension());
    }
}
