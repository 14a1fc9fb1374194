public class Hot {
    static long hotMethod(long n) { long s = 0; for (long i = 0; i < n; i++) s += i * 31 + (s >>> 3); return s; }
    public static void main(String[] a) {
        long end = System.currentTimeMillis() + (long) (Double.parseDouble(a[0]) * 1000); long t = 0;
        while (System.currentTimeMillis() < end) t += hotMethod(1000000);
        System.out.println(t != 1);
    }
}
