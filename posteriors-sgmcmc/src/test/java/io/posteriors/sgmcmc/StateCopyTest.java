package io.posteriors.sgmcmc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.State;
import io.posteriors.Transform;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code copy()} gives every sampler state new arrays that live and change on their own. */
class StateCopyTest {

    @Test
    void copy_ofEveryState_isIndependentOfTheOriginal() {
        var lp = Regression.logPosterior();
        assertIndependent(Sgld.builder(lp, 1e-2).build());
        assertIndependent(Sghmc.builder(lp, 1e-2).build());
        assertIndependent(Sgnht.builder(lp, 1e-2).build());
        assertIndependent(Baoa.builder(lp, 1e-2).build());
    }

    private static <S extends State> void assertIndependent(Transform<S, Regression.Batch> t) {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(21);
            Regression.Batch batch = Regression.batch(m, DataType.FLOAT32);
            S original =
                    t.updateInPlace(t.init(Regression.params(m, DataType.FLOAT32)), batch).state();
            List<float[]> values = original.arrays().stream().map(NDArray::toFloatArray).toList();
            @SuppressWarnings("unchecked") // records narrow State#copy to their own type
            S copy = (S) original.copy();
            assertEquals(original.getClass(), copy.getClass());
            assertEquals(original.step(), copy.step());
            List<NDArray> a = original.arrays();
            List<NDArray> c = copy.arrays();
            assertEquals(a.size(), c.size());
            for (int i = 0; i < a.size(); i++) {
                assertNotSame(a.get(i), c.get(i), "copy shares array " + i);
                assertArrayEquals(values.get(i), c.get(i).toFloatArray(), "copy of array " + i);
            }
            // moving and then closing the copy leaves the original as it was
            S moved = t.updateInPlace(copy, batch).state();
            assertEquals(original.step() + 1, moved.step());
            moved.close();
            for (int i = 0; i < a.size(); i++) {
                assertFalse(a.get(i).isReleased(), "closing the copy closed array " + i);
                assertArrayEquals(values.get(i), a.get(i).toFloatArray(), "original array " + i);
            }
        }
    }
}
