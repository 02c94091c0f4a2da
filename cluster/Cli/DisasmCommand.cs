using System.CommandLine;
using System.Text;
using Gee.External.Capstone;
using Gee.External.Capstone.X86;
using Iced.Intel;
using LegoEmu.Loader.Elf;

namespace LegoEmu.Cluster.Cli;

/// <summary><c>legoemu disasm PROGRAM [--capstone]</c>: disassembles executable sections with symbol labels.</summary>
public static class DisasmCommand
{
    public static Command Create()
    {
        var program = new Argument<string>("PROGRAM") { Description = "An x86-64 ELF file" };
        var capstone = new Option<bool>("--capstone") { Description = "Decode with Capstone instead of Iced (Capstone 4 cannot decode AVX-512/CET)" };
        var att = new Option<bool>("--att") { Description = "AT&T syntax (Iced's GAS formatter) instead of Intel" };
        var section = new Option<string>("--section") { Description = "Section to disassemble", DefaultValueFactory = _ => ".text", HelpName = "NAME" };
        var cmd = new Command("disasm", "Disassemble a program's code with symbols");
        cmd.Arguments.Add(program);
        cmd.Options.Add(capstone);
        cmd.Options.Add(att);
        cmd.Options.Add(section);
        cmd.SetAction(pr => Disassemble(pr.GetValue(program)!, pr.GetValue(section)!, pr.GetValue(capstone), pr.GetValue(att), Console.Out));
        return cmd;
    }

    public static int Disassemble(string path, string sectionName, bool useCapstone, bool att, TextWriter output)
    {
        ElfFile elf;
        try
        {
            elf = ElfFile.Load(path);
        }
        catch (LegoEmu.Loader.Image.ExecFileException e) { Console.Error.WriteLine($"legoemu: {e.Message}"); return e.Errno == LegoEmu.Mem.Errno.ENOENT ? 127 : 126; }
        catch (ElfFormatException e) { Console.Error.WriteLine($"legoemu: {LegoEmu.Mem.PrintableName.Escape(path)}: {e.Message}"); return 126; }
        var sec = elf.Sections.FirstOrDefault(s => s.Name == sectionName);
        if (sec.Name == null || sec.Type == ElfConst.SHT_NOBITS || sec.Offset + sec.Size > (ulong)elf.Data.Length)
        {
            Console.Error.WriteLine($"legoemu: {path}: no section {sectionName}");
            return 1;
        }
        var symbols = new Dictionary<ulong, string>();
        foreach (var s in elf.ReadSymbols())
            if (s.Value >= sec.Addr && s.Value < sec.Addr + sec.Size) symbols.TryAdd(s.Value, s.Name);
        var code = elf.Data.AsSpan((int)sec.Offset, (int)sec.Size).ToArray();
        var w = new StringBuilder();
        w.AppendLine($"{path}: section {sectionName} at 0x{sec.Addr:x}, {sec.Size} bytes ({(useCapstone ? "capstone" : "iced")})");
        if (useCapstone) WithCapstone(code, sec.Addr, symbols, w, output);
        else WithIced(code, sec.Addr, symbols, att, w, output);
        output.Write(w);
        return 0;
    }

    static void Label(Dictionary<ulong, string> symbols, ulong ip, StringBuilder w)
    {
        if (symbols.TryGetValue(ip, out var name)) w.AppendLine().AppendLine($"{ip:x16} <{name}>:");
    }

    static void Line(StringBuilder w, ulong ip, ReadOnlySpan<byte> bytes, string text)
    {
        w.Append($"{ip,8:x}:\t");
        var hex = new StringBuilder();
        foreach (var b in bytes) hex.Append($"{b:x2} ");
        w.Append(hex.ToString().PadRight(24)).Append('\t').AppendLine(text);
    }

    static void WithIced(byte[] code, ulong start, Dictionary<ulong, string> symbols, bool att, StringBuilder w, TextWriter output)
    {
        var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(code), start);
        var resolver = new SymbolTable(symbols);
        Formatter f = att ? new GasFormatter(resolver) : new IntelFormatter(resolver);
        var o = new StringOutput();
        while (decoder.IP < start + (ulong)code.Length)
        {
            ulong ip = decoder.IP;
            decoder.Decode(out var ins);
            Label(symbols, ip, w);
            f.Format(ins, o);
            string text = ins.IsInvalid ? "(bad)" : o.ToString();
            o.Reset();
            Line(w, ip, code.AsSpan((int)(ip - start), ins.Length), text);
            if (w.Length > 1 << 20) { output.Write(w); w.Clear(); }
        }
    }

    static void WithCapstone(byte[] code, ulong start, Dictionary<ulong, string> symbols, StringBuilder w, TextWriter output)
    {
        using var cs = CapstoneDisassembler.CreateX86Disassembler(X86DisassembleMode.Bit64);
        cs.EnableSkipDataMode = true;
        cs.DisassembleSyntax = DisassembleSyntax.Intel;
        foreach (var ins in cs.Disassemble(code, (long)start))
        {
            ulong ip = (ulong)ins.Address;
            Label(symbols, ip, w);
            Line(w, ip, ins.Bytes, $"{ins.Mnemonic} {ins.Operand}".TrimEnd());
            if (w.Length > 1 << 20) { output.Write(w); w.Clear(); }
        }
    }

    sealed class SymbolTable(Dictionary<ulong, string> symbols) : ISymbolResolver
    {
        public bool TryGetSymbol(in Instruction instruction, int operand, int instructionOperand, ulong address, int addressSize, out SymbolResult symbol)
        {
            if (symbols.TryGetValue(address, out var name))
            {
                symbol = new SymbolResult(address, name);
                return true;
            }
            symbol = default;
            return false;
        }
    }
}
