using System.Text;

namespace LegoEmu.Loader.Image;

/// <summary>Recognises "#!" interpreter scripts the way the kernel's binfmt_script does.</summary>
public static class Script
{
    /// <summary>True when the file starts with "#!"; gives the interpreter and its single optional argument.</summary>
    public static bool TryParse(string path, out string interpreter, out string? argument)
    {
        interpreter = "";
        argument = null;
        var head = new byte[256];
        int n;
        using (var f = File.OpenRead(path)) n = f.Read(head, 0, head.Length);
        if (n < 3 || head[0] != '#' || head[1] != '!') return false;
        int end = Array.IndexOf(head, (byte)'\n', 0, n);
        string line = Encoding.UTF8.GetString(head, 2, (end < 0 ? n : end) - 2).Trim();
        if (line.Length == 0) return false;
        int space = line.IndexOfAny([' ', '\t']);
        if (space < 0) interpreter = line;
        else
        {
            interpreter = line[..space];
            // Linux passes everything after the interpreter as one argument.
            string rest = line[(space + 1)..].Trim();
            if (rest.Length > 0) argument = rest;
        }
        return true;
    }
}
