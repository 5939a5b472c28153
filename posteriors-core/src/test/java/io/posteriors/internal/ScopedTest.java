package io.posteriors.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The DJL internals {@link Scoped} relies on, and its closing of temporaries. */
class ScopedTest {

    @Test
    void pinning_djlPrivateFieldsStillExist() {
        assertTrue(
                Scoped.pinningAvailable(),
                "DJL no longer has the private fields NDScope.resources (an IdentityHashMap) and"
                        + " PtNDArray.dataRef that Scoped reads by reflection to keep the Java"
                        + " buffers of number operands alive during autograd; after a DJL upgrade,"
                        + " find their new names and update Scoped (see docs/gotchas.md)");
    }

    @Test
    void call_closesTemporaries_keepsOutputsOnOwner() {
        try (NDManager manager = NDManager.newBaseManager();
                NDManager owner = manager.newSubManager()) {
            NDArray x = manager.ones(new Shape(3));
            NDArray[] temp = new NDArray[1];
            NDArray out =
                    Scoped.call(
                            owner,
                            () -> {
                                temp[0] = x.mul(2);
                                return temp[0].add(1);
                            },
                            List::of);
            assertTrue(temp[0].isReleased(), "temporary closed");
            assertEquals(owner, out.getManager());
            assertEquals(3.0, out.getFloat(0), 0.0);
            assertTrue(!x.isReleased(), "input kept");
        }
    }
}
