/* Two threads that wait: one sleeping in a loop, one waiting on a monitor.
 * Each wait is its own small method, which the JIT compiles after a few
 * hundred calls. */
public class Waits {
    static final Object lock = new Object();
    static void sleepOnce() throws InterruptedException { Thread.sleep(1); }
    static void waitOnce() throws InterruptedException { synchronized (lock) { lock.wait(1); } }
    public static void main(String[] a) throws Exception {
        long end = System.currentTimeMillis() + (long) (Double.parseDouble(a[0]) * 1000);
        Thread s = new Thread(() -> { try { while (System.currentTimeMillis() < end) sleepOnce(); } catch (InterruptedException e) {} }, "sleeper");
        Thread w = new Thread(() -> { try { while (System.currentTimeMillis() < end) waitOnce(); } catch (InterruptedException e) {} }, "waiter");
        s.start(); w.start(); s.join(); w.join();
    }
}
