; spindle's FAT32 boot sector code and its second stage: loads /BOOTMGR from the root
; directory to 2000:0000 and jumps there in real mode with DL = the BIOS drive number, as
; Windows' own boot sector does. The BPB stays at 0:7C00.
;
; Stage 1 is the boot sector's code area (offset 90, 420 bytes): it reads stage 2 from the
; volume's reserved sectors 2 to 5 (between the FSInfo sector and the backup boot sector)
; to 0:7E00 and jumps to it. Stage 2 walks the root directory's cluster chain for BOOTMGR
; and reads its clusters by following the FAT.
; Assembled with: nasm -f bin -o fat32.bin fat32.asm
; fat32.bin: bytes 0..420 are the code area, bytes 420..2468 stage 2 (four sectors).
bits 16

; BPB fields, at 0:7C00
BPB_SecPerClus  equ 0x7C00 + 13
BPB_RsvdSecCnt  equ 0x7C00 + 14
BPB_NumFATs     equ 0x7C00 + 16
BPB_HiddSec     equ 0x7C00 + 28
BPB_DrvNum      equ 0x7C00 + 64
BPB_FATSz32     equ 0x7C00 + 36
BPB_RootClus    equ 0x7C00 + 44
STAGE2          equ 0x7E00

section stage1 start=0 vstart=0x7C5A
stage1:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    cld
    mov [BPB_DrvNum], dl        ; the drive, kept in the BPB (what Windows does too)
    mov ah, 0x41
    mov bx, 0x55AA
    int 0x13
    jc .noext
    cmp bx, 0xAA55
    jne .noext
    mov eax, [BPB_HiddSec]
    add eax, 2
    mov [s1_lba], eax
    mov si, s1_dap
    mov ah, 0x42
    mov dl, [BPB_DrvNum]
    int 0x13
    jc .err
    jmp 0:STAGE2
.noext:
.err:
    mov si, s1_msg
.print:
    lodsb
    test al, al
    jz .done
    mov ah, 0x0E
    mov bx, 7
    int 0x10
    jmp .print
.done:
    int 0x18
.halt:
    hlt
    jmp .halt

s1_dap: db 16, 0
        dw 4
        dw STAGE2, 0
s1_lba: dd 0, 0
s1_msg: db "spindle boot: cannot read the disk", 13, 10, 0
times 420 - ($ - $$) db 0

section stage2 start=420 vstart=STAGE2
stage2:
    ; data_start = hidden + reserved + fats * fat_size; fat_start = hidden + reserved
    movzx eax, word [BPB_RsvdSecCnt]
    add eax, [BPB_HiddSec]
    mov [fat_start], eax
    movzx ecx, byte [BPB_NumFATs]
.fats:
    add eax, [BPB_FATSz32]
    loop .fats
    mov [data_start], eax
    mov eax, [BPB_RootClus]

.dir_cluster:                   ; EAX: a cluster of the root directory
    mov [cluster], eax
    mov word [dest_seg], 0x1000 ; read it to 1000:0000
    call read_cluster
    push ds
    mov ax, 0x1000
    mov es, ax
    xor di, di
    movzx cx, byte [BPB_SecPerClus]
    shl cx, 4                   ; 16 entries a sector
.entry:
    cmp byte [es:di], 0         ; end of directory
    je .missing
    test byte [es:di + 11], 0x18 ; not a directory or volume label (nor a long-name entry)
    jnz .next
    push cx
    push di
    mov si, name
    mov cx, 11
    repe cmpsb
    pop di
    pop cx
    je .found
.next:
    add di, 32
    loop .entry
    pop ds
    mov eax, [cluster]
    call next_cluster
    cmp eax, 0x0FFFFFF8
    jb .dir_cluster
    jmp .missing2

.found:
    mov ax, [es:di + 20]
    shl eax, 16
    mov ax, [es:di + 26]
    pop ds
    mov word [dest_seg], 0x2000
.load:                          ; EAX: a cluster of BOOTMGR
    cmp eax, 2
    jb .missing2
    cmp eax, 0x0FFFFFF8
    jae .loaded
    mov [cluster], eax
    call read_cluster
    movzx ax, byte [BPB_SecPerClus]
    shl ax, 5                   ; paragraphs a cluster
    add [dest_seg], ax
    mov eax, [cluster]
    call next_cluster
    jmp .load

.loaded:
    mov dl, [BPB_DrvNum]
    jmp 0x2000:0x0000

.missing:
    pop ds
.missing2:
    mov si, msg_missing
    jmp fail

; Reads cluster [cluster] to [dest_seg]:0000.
read_cluster:
    mov eax, [cluster]
    sub eax, 2
    movzx ecx, byte [BPB_SecPerClus]
    mul ecx
    add eax, [data_start]
    mov [dap_lba], eax
    mov [dap_count], cx
    mov ax, [dest_seg]
    mov [dap_seg], ax
    jmp read

; EAX: a cluster; returns the next one from the FAT (28 bits).
next_cluster:
    shl eax, 2                  ; byte offset in the FAT
    mov ecx, eax
    shr eax, 9
    add eax, [fat_start]
    mov [dap_lba], eax
    mov word [dap_count], 1
    mov word [dap_seg], 0x0050  ; the FAT sector goes to 0050:0000
    push ecx
    call read
    pop ecx
    and cx, 511
    mov si, cx
    push ds
    mov ax, 0x0050
    mov ds, ax
    mov eax, [si]
    pop ds
    and eax, 0x0FFFFFFF
    ret

read:
    mov si, dap
    mov ah, 0x42
    mov dl, [BPB_DrvNum]
    int 0x13
    jc .err
    ret
.err:
    mov si, msg_read

fail:
    lodsb
    test al, al
    jz .done
    mov ah, 0x0E
    mov bx, 7
    int 0x10
    jmp fail
.done:
    int 0x18
.halt:
    hlt
    jmp .halt

name:        db "BOOTMGR    "
dap:         db 16, 0
dap_count:   dw 0
             dw 0
dap_seg:     dw 0
dap_lba:     dd 0, 0
fat_start:   dd 0
data_start:  dd 0
cluster:     dd 0
dest_seg:    dw 0
msg_missing: db "spindle boot: BOOTMGR is missing", 13, 10, 0
msg_read:    db "spindle boot: disk read error", 13, 10, 0
times 2048 - ($ - $$) db 0
