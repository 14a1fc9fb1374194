/* Two allocation sites with a known byte ratio: big() 3016 bytes per call
 * (byte[3000] and its 16-byte header), small() 1016: 74.8% and 25.2%. */
public class Alloc {
    static Object keep;
    static void big() { keep = new byte[3000]; }
    static void small() { keep = new byte[1000]; }
    public static void main(String[] a) {
        long end = System.currentTimeMillis() + (long) (Double.parseDouble(a[0]) * 1000);
        while (System.currentTimeMillis() < end)
            for (int i = 0; i < 10000; i++) { big(); small(); }
    }
}
