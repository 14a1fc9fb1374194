import java.util.zip.Deflater;

public class Hot {
    static long hotMethod(long n) { long s = 0; for (long i = 0; i < n; i++) s += i * 31 + (s >>> 3); return s; }

    /* Java calling native code: Deflater runs zlib through JNI. */
    static int compressBlob(byte[] in, byte[] out) {
        Deflater d = new Deflater(9);
        d.setInput(in);
        d.finish();
        int n = d.deflate(out);
        d.end();
        return n;
    }

    public static void main(String[] a) {
        long end = System.currentTimeMillis() + (long) (Double.parseDouble(a[0]) * 1000); long t = 0;
        byte[] in = new byte[1 << 18], out = new byte[1 << 19];
        for (int i = 0; i < in.length; i++) in[i] = (byte) (i * 7 % 251);
        for (int k = 0; System.currentTimeMillis() < end; k++) {
            t += hotMethod(1000000);
            if (k % 8 == 0) t += compressBlob(in, out);
        }
        System.out.println(t != 1);
    }
}
