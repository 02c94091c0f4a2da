namespace LegoEmu.Syscalls.Runtime;

/// <summary>How a descriptor's I/O may block, learned once per descriptor from its file type.</summary>
public enum FdKind : byte
{
    /// <summary>Not looked at yet.</summary>
    Unknown,
    /// <summary>Regular files, directories and block devices: I/O never waits for another party.</summary>
    NeverBlocks,
    /// <summary>Pipes, sockets, eventfd, timerfd …: a transfer can be tried without blocking (RWF_NOWAIT, MSG_DONTWAIT).</summary>
    NoWait,
    /// <summary>Sockets: like <see cref="NoWait"/>, and their SO_RCVTIMEO/SO_SNDTIMEO bound a wait.</summary>
    Socket,
    /// <summary>Terminals and other character devices that refuse RWF_NOWAIT: poll for readiness first.</summary>
    PollFirst,
    /// <summary>A thread's comm opened for writing (a memfd): writes rename the thread; reads never block.</summary>
    ThreadName,
}
