package dev.guardian

import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import dev.guardian.ffi.GuardianListener
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicInteger

/** A listener that throws must not stop later events; its errors are counted. */
class ListenerErrorTest {
    @Test
    fun `a throwing listener does not stop later events, and its errors are counted`() {
        val rec = Recording.of(Fixtures.day)
        val seen = CopyOnWriteArrayList<GuardianEvent>()
        val thrown = AtomicInteger()
        val listener =
            object : GuardianListener {
                override fun onEvent(event: GuardianEvent) {
                    seen.add(event)
                    // Throw on every alert event, with an exception UniFFI does not declare.
                    if (event is GuardianEvent.Fall || event is GuardianEvent.AlertEscalated) {
                        thrown.incrementAndGet()
                        throw IllegalStateException("listener bug on $event")
                    }
                }
            }
        FallDetector(Fixtures.options()).use { d ->
            d.start(listener)
            rec.streamTo(d)
            d.stop()
            val falls = seen.filterIsInstance<GuardianEvent.Fall>()
            assertEquals(4, falls.size, "every fall still arrives: $seen")
            assertEquals(4, seen.count { it is GuardianEvent.AlertEscalated })
            assertEquals(8, thrown.get())
            val stats = d.stats()
            assertEquals(thrown.get().toULong(), stats.listenerErrors, "$stats")
            assertEquals(4uL, stats.falls)
            assertEquals(seen.size.toULong(), stats.callbackCount)
            // Detection went on: the detector still runs normally afterwards.
            d.start(guardianListener { })
            assertTrue(d.state().running)
            d.stop()
        }
    }
}
